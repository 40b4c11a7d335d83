"""What a domain makes searchable: `SearchIndex`, one per table, and its objects on each backend.

A `SearchIndex` names a tenant table, its text fields with their weights (the title above
the body) and how a hit is shown (its title column, its parent's id). From that one
declaration follow, for each backend, the objects the search revision creates and the
expressions the queries use, so the two cannot disagree:

- PostgreSQL: a GIN index on the weighted document, `setweight(to_tsvector(<config>,
  coalesce(title, '')), 'A') || ...`, with the text-search configuration spelled as a
  constant (`'simple'::regconfig`): the planner uses an expression index only for a query
  that spells the same expression, and a constant matches only a constant. No new column
  and no new table: the index follows the table wherever Citus places its shards.
- SQLite: an FTS5 table `<table>_search` holding a copy of the fields with the row's
  `user_id` and `id`, kept in sync by triggers (insert, update of a field, delete, hence a
  user's deletion through the cascade). It is not an external-content table: those find
  their rows by the content table's `rowid`, which a table keyed by `(user_id, id)` does not
  keep (VACUUM and Alembic's batch rebuilds renumber it). The triggers find a row by its
  `id`, itself indexed by FTS5, so a delete or an update is an index lookup.

The FTS5 table is mapped, on its own metadata (never the package's: Alembic does not see
it), to a `SearchShadow` class: the scope's criteria reach it as they reach every tenant
model (`tenancy`), so a query of it is limited to the scope's user by itself, and it is
always joined back to its table, which is limited too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, ColumnElement, MetaData, Table, Text, Uuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import registry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine, UserDefinedType

from tasktracker.db.base import SearchShadow, TenantModel

Weight = Literal["A", "B", "C", "D"]

RANK_WEIGHTS: Mapping[Weight, float] = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
"""A field's weight in the rank: PostgreSQL's `ts_rank` defaults, used for FTS5's `bm25`."""

FTS5_TOKENIZER = "unicode61 remove_diacritics 0"
"""Case-folding, no accent folding and no stemming: what the `simple` configuration does."""

search_metadata = MetaData()
"""The FTS5 tables (SQLite), apart from the package's metadata."""
_search_registry = registry(metadata=search_metadata)


@dataclass(frozen=True, eq=False)
class SearchIndex:
    """The searchable fields of `model` (name → weight, in order) and how a hit shows."""

    kind: str
    model: type[TenantModel]
    fields: Mapping[str, Weight]
    title: str | None = None
    parent: str | None = None
    shadow: type[SearchShadow] = field(init=False)

    def __post_init__(self) -> None:
        table = Table(
            self.fts_table,
            search_metadata,
            *(Column(name, Text) for name in self.fields),
            Column("user_id", Uuid, primary_key=True),
            Column("id", Uuid, primary_key=True),
        )
        shadow = type(f"{self.model.__name__}Search", (SearchShadow,), {})
        _search_registry.map_imperatively(shadow, table)
        object.__setattr__(self, "shadow", shadow)

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    @property
    def fts_table(self) -> str:
        return f"{self.table}_search"

    @property
    def gin_index(self) -> str:
        return f"ix_{self.table}_search"

    def column(self, name: str) -> Any:
        return getattr(self.model, name)

    def document(self, config: str) -> ColumnElement[Any]:
        """PostgreSQL: the weighted document, as the GIN index spells it."""
        return _document(config, self.fields, *(self.column(name) for name in self.fields))

    @property
    def bm25_weights(self) -> tuple[float, ...]:
        """FTS5: the fields' weights, then 0 for `user_id` and `id`."""
        return (*(RANK_WEIGHTS[weight] for weight in self.fields.values()), 0.0, 0.0)


def document_sql(config: str, fields: Mapping[str, Weight], columns: list[str]) -> str:
    """The weighted `tsvector` of the columns (SQL names), the text of the GIN index."""
    regconfig = regconfig_sql(config)
    return " || ".join(
        f"setweight(to_tsvector({regconfig}, coalesce({column}, '')), '{weight}')"
        for column, weight in zip(columns, fields.values(), strict=True)
    )


def regconfig_sql(config: str) -> str:
    """A text-search configuration as a constant (its name is checked by the settings)."""
    return f"'{config}'::regconfig"


class TSVector(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tsvector"


class _document(FunctionElement[Any]):  # noqa: N801 (a SQL expression, named like a function)
    """`document_sql` over the model's columns, the constants spelled inline."""

    type: TypeEngine[Any] = TSVector()
    inherit_cache = True

    def __init__(self, config: str, fields: Mapping[str, Weight], *columns: Any) -> None:
        self.config = config
        self.fields = dict(fields)
        super().__init__(*columns)

    def _gen_cache_key(self, anon_map: Any, bindparams: Any) -> Any:
        key = super()._gen_cache_key(anon_map, bindparams)
        return (*key, self.config, tuple(self.fields.items()))


@compiles(_document)
def _compile_document(element: _document, compiler: SQLCompiler, **kw: Any) -> str:
    columns = [compiler.process(column, **kw) for column in element.clauses]
    return document_sql(element.config, element.fields, columns)


class regconfig(FunctionElement[Any]):  # noqa: N801 (a SQL constant, named like a function)
    """A text-search configuration as a constant (`'simple'::regconfig`)."""

    inherit_cache = True

    def __init__(self, config: str) -> None:
        self.config = config
        super().__init__()

    def _gen_cache_key(self, anon_map: Any, bindparams: Any) -> Any:
        return (*super()._gen_cache_key(anon_map, bindparams), self.config)


@compiles(regconfig)
def _compile_regconfig(element: regconfig, compiler: SQLCompiler, **kw: Any) -> str:
    return regconfig_sql(element.config)


class fts5_function(FunctionElement[Any]):  # noqa: N801 (a SQL function)
    """An FTS5 function of the table (`bm25`, `snippet`, `MATCH`): the table's name first,
    unquoted, as FTS5 wants it, then the arguments."""

    inherit_cache = True

    def __init__(self, name: str, table: str, *arguments: Any, type_: Any = None) -> None:
        self.function = name
        self.table = table
        if type_ is not None:
            self.type = type_
        super().__init__(*arguments)

    def _gen_cache_key(self, anon_map: Any, bindparams: Any) -> Any:
        key = super()._gen_cache_key(anon_map, bindparams)
        return (*key, self.function, self.table)


@compiles(fts5_function)
def _compile_fts5_function(element: fts5_function, compiler: SQLCompiler, **kw: Any) -> str:
    arguments = [compiler.process(argument, **kw) for argument in element.clauses]
    if element.function == "match":
        return f"{element.table} MATCH {arguments[0]}"
    return f"{element.function}({', '.join([element.table, *arguments])})"


_FTS5_SHADOWS = ("", "_data", "_idx", "_content", "_docsize", "_config")
"""The tables of an FTS5 table `x`: `x` itself and `x_data`, `x_idx`... (SQLite's)."""


def is_search_object(name: str, type_: str) -> bool:
    """Whether a database object is one of the search revision's: a GIN index
    (`ix_<table>_search`) or an FTS5 table or one of its shadow tables."""
    if type_ == "index":
        return name.startswith("ix_") and name.endswith("_search")
    if type_ == "table":
        return any(name.endswith(f"_search{suffix}") for suffix in _FTS5_SHADOWS)
    return False


def owner_phrase(user_id: uuid.UUID) -> str:
    """FTS5: the phrase that finds a user's rows by the index (ids are stored as hex)."""
    return f'user_id : "{user_id.hex}"'
