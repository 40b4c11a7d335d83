"""Units of work that carry the domains' repositories and services, sync and async.

A layer above the domains (the core knows none): `Unit` (sync) and `AsyncUnit` (async) are
the sessions their units yield, with `unit.tasks`, `unit.conversations`, ...; `Database` and
`AsyncDatabase` are the core's, bound to them. The package root exports these two.
"""

from tasktracker.units.asynchronous import AsyncUnit
from tasktracker.units.databases import AsyncDatabase, Database
from tasktracker.units.sync import Unit

__all__ = ["AsyncDatabase", "AsyncUnit", "Database", "Unit"]
