"""The schema as data: every table of the metadata, parents first, with its mapped model.

Generic tools (row counts, export and import, the ER diagram) walk the tables through here
instead of naming them, so a new domain is picked up by importing its models in the
registry, `tasktracker.models`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from tasktracker import models
from tasktracker.db.base import TableModel

TENANT_KEY = "user_id"


def tables() -> list[Table]:
    """Every table, parents before the children that reference them."""
    return list(models.metadata.sorted_tables)


def tenant_tables() -> list[Table]:
    """The tables whose rows belong to one user (all but `users`), parents first."""
    return [table for table in tables() if TENANT_KEY in table.c]


def models_by_table() -> dict[str, type[Any]]:
    """The mapped model class of each table, by table name."""
    return {
        mapper.local_table.name: mapper.class_
        for mapper in TableModel._sa_registry.mappers
        if isinstance(mapper.local_table, Table)
    }


def model_for(table: Table) -> type[Any]:
    return models_by_table()[table.name]


def domain_of(table: Table) -> str:
    """The domain package a table's model lives in (`tasks` for `tasktracker.tasks.models`)."""
    return str(model_for(table).__module__.split(".")[1])


def tables_by_domain() -> list[Table]:
    """Every table grouped by domain (domains in dependency order), parents first within one."""
    ordered = tables()
    domains = list(dict.fromkeys(domain_of(table) for table in ordered))
    return sorted(ordered, key=lambda table: domains.index(domain_of(table)))
