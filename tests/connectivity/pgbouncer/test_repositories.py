"""A representative subset of the repository test suites, re-run through PgBouncer.

The tests are the domain suites' own functions (imported, not copied), run here on the
overridden fixtures of this folder: sync on psycopg, async on psycopg and on asyncpg, all
through PgBouncer in transaction pooling mode. Marked `pgbouncer` (`pytest -m pgbouncer`).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

pytestmark = pytest.mark.pgbouncer

REPRESENTATIVE = (
    "tests.tasks.conftest",
    "tests.tasks.test_async",
    "tests.tasks.test_deletion",
    "tests.tasks.test_isolation",
    "tests.tasks.test_timestamps",
    "tests.tasks.test_validation",
    "tests.chat.conftest",
    "tests.chat.test_async",
    "tests.chat.test_integrity",
    "tests.chat.test_isolation",
    "tests.chat.test_ordering",
    "tests.chat.test_repository",
    "tests.accounts.test_users",
)


def _is_fixture(value: Any) -> bool:
    return type(value).__name__ == "FixtureFunctionDefinition" or hasattr(
        value, "_pytestfixturefunction"
    )


def _adopt(module_name: str) -> None:
    """Bring the module's tests (renamed after their module) and fixtures into this one."""
    module = importlib.import_module(module_name)
    prefix = module_name.removeprefix("tests.").replace(".test_", "__").replace(".", "_")
    for name, value in vars(module).items():
        if name.startswith("test_") and callable(value):
            globals()[f"test_{prefix}__{name.removeprefix('test_')}"] = value
        elif _is_fixture(value) and not name.startswith("__"):  # not a plugin's own
            existing = globals().setdefault(name, value)
            if existing is not value:
                raise RuntimeError(f"two fixtures named {name!r} in {REPRESENTATIVE}")


for _module in REPRESENTATIVE:
    _adopt(_module)
