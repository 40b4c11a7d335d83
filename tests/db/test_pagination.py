"""Which sort keys `paginate` selects: a key that is one of a column select's own columns
is read there, any other key (an expression, or any key of an ORM entity select) is
selected after the row's columns, and `make_page` reads each from where it is."""

from __future__ import annotations

from sqlalchemy import String, func, select

from tasktracker import models  # noqa: F401  (every mapper, for the ORM select)
from tasktracker.db.pagination import KEYSET_OPTION, Keyset, Ordering, SortKey, paginate
from tasktracker.tasks.models import Task

BY_CREATION = Ordering(
    "test-created",
    (SortKey(Task.created_at), SortKey(Task.id)),  # type: ignore[arg-type]
)
BY_TITLE = Ordering(
    "test-title",
    (SortKey(func.lower(Task.title, type_=String)), SortKey(Task.id)),  # type: ignore[arg-type]
)


def _keyset(statement: object) -> Keyset:
    return statement.get_execution_options()[KEYSET_OPTION]  # type: ignore[attr-defined,no-any-return]


def test_a_column_select_is_read_where_its_keys_stand() -> None:
    statement = paginate(
        select(Task.id, Task.title, Task.created_at), BY_CREATION, 10, None, columns_only=True
    )
    assert "page_key" not in str(statement)
    assert _keyset(statement) == Keyset(BY_CREATION, (2, 0), 0)


def test_an_expression_key_is_selected_after_the_row() -> None:
    statement = paginate(select(Task.id, Task.title), BY_TITLE, 10, None, columns_only=True)
    assert "lower(tasks.title) AS page_key_0" in str(statement)
    assert "page_key_1" not in str(statement)
    assert _keyset(statement) == Keyset(BY_TITLE, (-1, 0), 1)


def test_every_key_of_an_entity_select_is_selected() -> None:
    statement = paginate(select(Task), BY_CREATION, 10, None)
    sql = str(statement)
    assert "tasks.created_at AS page_key_0" in sql
    assert "tasks.id AS page_key_1" in sql
    assert _keyset(statement) == Keyset(BY_CREATION, (-2, -1), 2)
