"""The core's `Database` and `AsyncDatabase`, bound to the units that carry repositories."""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tasktracker.db import sessions
from tasktracker.units.asynchronous import AsyncUnit
from tasktracker.units.sync import Unit


class Database(sessions.Database[Unit]):
    """`db.sessions.Database` whose units are `Unit`s: `unit.tasks.read_page(...)`."""

    def __init__(self, bind: Engine | Connection) -> None:
        super().__init__(bind, Unit)


class AsyncDatabase(sessions.AsyncDatabase[AsyncUnit]):
    """`db.sessions.AsyncDatabase` whose units are `AsyncUnit`s:
    `await unit.tasks.read_page(...)`."""

    def __init__(self, bind: AsyncEngine | AsyncConnection) -> None:
        super().__init__(bind, AsyncUnit)
