"""pytest-alembic's built-in tests, on a fresh SQLite and a fresh PostgreSQL database.

- single head: the history never branched;
- upgrade: base to head applies;
- model definitions match DDL: autogenerate against the migrated database finds nothing;
- up-down consistency: each revision upgrades, then every one downgrades and upgrades again.
"""

from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]
