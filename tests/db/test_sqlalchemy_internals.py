"""Each SQLAlchemy internal the data layer relies on (`db.sqlalchemy_internals`) exists and
behaves as assumed on the installed SQLAlchemy, run on a real statement.

CI runs this on the lowest SQLAlchemy `pyproject.toml` allows (2.1.0) and on the newest:
an incompatible release fails here, naming the internal, instead of letting the scope
guard overlook an assignment or the fast path bind a parameter in the wrong place."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    BindParameter,
    Engine,
    ForeignKey,
    Integer,
    bindparam,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import col

from tasktracker.chat.models import Conversation
from tasktracker.db import sqlalchemy_internals as internals
from tasktracker.tasks.models import Task

PSYCOPG = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
"""Named parameters (`%(name)s`)."""
PYSQLITE = sqlite.pysqlite.dialect()  # type: ignore[attr-defined]
"""Positional parameters (`?`)."""


def _compiled(statement: Any, dialect: Dialect) -> SQLCompiler:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def test_cache_key_is_the_shape_bound_values_aside() -> None:
    first = internals.cache_key(select(Task).where(Task.title == "a"))
    assert first is not None
    assert internals.cache_key(select(Task).where(Task.title == "b")) == first
    assert internals.cache_key(select(Task).where(Task.description == "a")) != first
    hash(first)  # a dictionary key of the guard's memo


def test_parent_entity_tells_models_from_tables() -> None:
    table = Task.__table__  # type: ignore[attr-defined]
    for element in (Task.title, insert(Task).table, update(Task).table):
        entity = internals.parent_entity(element)
        assert entity is not None
        assert entity.class_ is Task
    assert internals.parent_entity(table) is None
    assert internals.parent_entity(table.c.title) is None
    assert internals.parent_entity(text("1")) is None


def test_loader_options_are_the_statements_options() -> None:
    option = selectinload(Conversation.messages)  # type: ignore[arg-type]
    assert internals.loader_options(select(Conversation)) == ()
    assert list(internals.loader_options(select(Conversation).options(option))) == [option]


@pytest.mark.parametrize(
    "marked",
    [
        lambda s: s.prefix_with("/*+ x */"),
        lambda s: s.suffix_with("FOR NOTHING"),
        lambda s: s.with_hint(Task, "INDEX (tasks x)"),
        lambda s: s.with_statement_hint("Leading(tasks)"),
    ],
    ids=["prefix", "suffix", "hint", "statement hint"],
)
def test_prefixes_suffixes_and_hints_are_seen(marked: Any) -> None:
    plain = select(Task.id)
    assert not internals.has_prefix_suffix_or_hint(plain)
    assert internals.has_prefix_suffix_or_hint(marked(plain))
    assert not internals.has_prefix_suffix_or_hint(Task.title == "x")  # not a statement


def test_operators_of_binary_and_unary_expressions() -> None:
    custom = col(Task.title).op("~*")("x")
    assert [op.opstring for op in internals.operators_of(custom)] == ["~*"]
    descending = col(Task.title).desc()
    assert len(internals.operators_of(descending)) == 2  # (operator, modifier)
    assert descending.modifier in internals.operators_of(descending)
    assert internals.operators_of(Task.title) == ()


def test_single_values_and_from_select_are_told_apart() -> None:
    assert internals.has_single_values(insert(Task).values(title="a"))
    assert not internals.has_single_values(insert(Task))
    assert not internals.has_single_values(insert(Task).values([{"title": "a"}, {"title": "b"}]))
    assert internals.inserts_from_select(insert(Task).from_select(["title"], select(Task.title)))
    assert not internals.inserts_from_select(insert(Task).values(title="a"))


def _assigned(statement: Any) -> list[tuple[str, Any]]:
    """The statement's assignments, with bound values as their values."""
    return [
        (name, value.effective_value if isinstance(value, BindParameter) else value)
        for name, value in internals.assignments(statement)
    ]


def test_assignments_of_every_form() -> None:
    assert sorted(_assigned(insert(Task).values(title="a", user_id=1))) == [
        ("title", "a"),
        ("user_id", 1),
    ]
    many = insert(Task).values([{"title": "a", "user_id": 1}, {"title": "b", "user_id": 2}])
    assert [pair for pair in _assigned(many) if pair[0] == "user_id"] == [
        ("user_id", 1),
        ("user_id", 2),
    ]
    ordered = update(Task).ordered_values((Task.user_id, 3), (Task.title, "c"))
    assert _assigned(ordered) == [("user_id", 3), ("title", "c")]
    assert sorted(_assigned(update(Task).values({Task.user_id: 5}))) == [("user_id", 5)]
    upsert = (
        postgresql.insert(Task)
        .values(title="d")
        .on_conflict_do_update(index_elements=["id"], set_={"user_id": 4})
    )
    assert ("user_id", 4) in _assigned(upsert)
    assert _assigned(delete(Task)) == []


def test_assignments_of_a_positional_multi_row_insert() -> None:
    table = Task.__table__  # type: ignore[attr-defined]
    columns = [column.key for column in table.c]
    row = tuple(range(len(columns)))
    assert _assigned(insert(Task).values([row])) == list(zip(columns, row, strict=True))


@pytest.mark.parametrize("dialect", [PSYCOPG, PYSQLITE], ids=["psycopg", "pysqlite"])
def test_bind_names_and_positions_place_each_parameter(dialect: Dialect) -> None:
    statement = select(Task.id).where(
        Task.title == bindparam("title"), Task.description == bindparam("title")
    )
    compiled = _compiled(statement.where(Task.priority == bindparam("priority")), dialect)
    names = {bind.key: name for bind, name in internals.bind_names(compiled)}
    assert set(names) == {"title", "priority"}
    params = compiled.construct_params({"title": "t", "priority": "p"})
    assert {params[names["title"]], params[names["priority"]]} == {"t", "p"}
    order = internals.positions(compiled)
    if dialect.paramstyle == "qmark":
        assert order == ("title", "title", "priority")  # in the order of the `?` marks
        assert compiled.string.count("?") == 3
    else:
        assert order is None  # named: the driver takes a mapping


def test_prefetch_columns_are_the_python_side_defaults() -> None:
    compiled = _compiled(insert(Task).values(title="a", user_id=bindparam("u")), PYSQLITE)
    missing = internals.prefetch_columns(compiled)
    assert "id" in missing  # a UUIDv7 made in Python
    assert "title" not in missing
    assert internals.prefetch_columns(_compiled(select(Task.id), PYSQLITE)) == []


@pytest.mark.parametrize("name", ["before_cursor_execute", "after_cursor_execute"])
def test_fire_cursor_event_reaches_the_listeners_as_sqlalchemy_calls_them(
    engine: Engine, name: str
) -> None:
    seen: list[tuple[Any, ...]] = []

    def listener(*args: Any) -> None:
        seen.append(args)

    with engine.connect() as connection:
        event.listen(connection, name, listener)
        connection.exec_driver_sql("SELECT 1")  # what SQLAlchemy itself passes
        cursor = object()
        internals.fire_cursor_event(connection, name, cursor, "SELECT 2", {"a": 1})
    (own,) = [args for args in seen if args[2] == "SELECT 1"]
    (ours,) = [args for args in seen if args[2] == "SELECT 2"]
    assert ours == (connection, cursor, "SELECT 2", {"a": 1}, None, False)
    assert len(own) == len(ours)
    assert own[0] is connection
    assert own[5] is False


def test_replaced_parameters_are_the_ones_executed(engine: Engine) -> None:
    """The scope fills the owner into executemany rows this way (`tenancy`)."""

    def hook(state: ORMExecuteState) -> None:
        internals.replace_parameters(state, {"x": 2})

    with Session(engine) as session:
        event.listen(session, "do_orm_execute", hook)
        assert session.scalar(select(bindparam("x", type_=Integer)), {"x": 1}) == 2


def test_plain_mapping_tells_what_the_loader_does_more_for() -> None:
    class Base(DeclarativeBase):
        pass

    class Parent(Base):
        __tablename__ = "parent"
        id: Mapped[int] = mapped_column(primary_key=True)
        eager: Mapped[list[Child]] = relationship(lazy="selectin")

    class Child(Base):
        __tablename__ = "child"
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))
        note: Mapped[str] = mapped_column(deferred=True)

    class Versioned(Base):
        __tablename__ = "versioned"
        id: Mapped[int] = mapped_column(primary_key=True)
        version: Mapped[int] = mapped_column()
        __mapper_args__ = {"version_id_col": version}

    assert internals.plain_mapping(sa_inspect(Task))
    for model in (Parent, Child, Versioned):
        assert not internals.plain_mapping(sa_inspect(model)), model.__name__


def test_load_persistent_makes_what_the_loader_makes(engine: Engine) -> None:
    """The state of an object it makes matches one the ORM's loader made of the same row."""

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = "tt_internals_note"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str]

    with engine.connect() as connection:
        transaction = connection.begin()
        Base.metadata.create_all(connection)
        connection.execute(insert(Note), [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}])
        with Session(connection) as session:
            by_orm = session.get(Note, 1)
            made = internals.load_persistent(
                session, sa_inspect(Note), ("id", "text"), (0,), [(2, "b"), (1, "x")]
            )
            assert made is not None
            second, first = made
            assert first is by_orm  # held: returned as held, its attributes unchanged
            assert first.text == "a"
            ours, theirs = sa_inspect(second), sa_inspect(by_orm)
            for name in ("identity_token", "session_id", "persistent", "modified", "expired"):
                assert getattr(ours, name) == getattr(theirs, name), name
            assert ours.key == (Note, (2,), None)
            assert ours.persistent
            assert session.identity_map.get(ours.key) is second
            second.text = "c"
            assert second in session.dirty
            session.flush()
            assert connection.scalar(select(Note.text).where(Note.id == 2)) == "c"
            session.expire(first)
            assert (
                internals.load_persistent(
                    session, sa_inspect(Note), ("id", "text"), (0,), [(1, "a")]
                )
                is None
            )
        transaction.rollback()


def test_blank_instance_is_what_sqlmodel_s_new_makes() -> None:
    """A table model's blank instance is made inline where that gives SQLModel's own (the
    check against the installed SQLModel and pydantic passes here, so the inline way is
    the one taken), and through a model's own `__new__` where it has one."""
    from tasktracker.tasks.models import Task

    make = internals.blank_instance(Task)
    assert make.__name__ == "inline"
    made, expected = make(), Task.__new__(Task)
    assert type(made) is Task
    assert vars(made) == vars(expected) == {}
    for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        assert getattr(made, slot) == getattr(expected, slot), slot
    assert made.__pydantic_fields_set__ is not make().__pydantic_fields_set__  # not shared

    made_by_new: list[object] = []

    class Counted:
        def __new__(cls) -> Counted:
            made_by_new.append(obj := super().__new__(cls))
            return obj

    assert internals.blank_instance(Counted)() is made_by_new[0]
