"""Listings, each declared once: its filter fields, its orderings, its read row.

A listing is a page of one model's rows, filtered and ordered, continued by a cursor.
Everything a listing needs follows from one declaration:

- its filter is a `ListingFilter`, a validated `Input` whose every field carries its SQL in
  its `Annotated` metadata (`Equals`, `LessThan`, `AtLeast`, `OneOf`, `Flag`, and
  `LinkedToAny` / `LinkedToAll` for a link table's rows), so a field's
  type, its validation and its criterion are one line; the filter derives from those its
  WHERE criteria, their bound parameters and its *shape* (which criteria are set, with how
  many values);
- its orderings map each public sort to a `pagination.Ordering`, whose keys give the
  ORDER BY, the keyset predicate and the cursor (decoded by each key's SQL type);
- its read row is a `NamedTuple` whose fields name the model's columns.

From that, `Listing` runs both paths with the same criteria, ordering and cursors: the
ORM path (`entities`, `page`: tracked models, or what a custom statement selects) and the
compiled fast path (`rows`: read rows from a `CompiledQuery`, cached by filter shape, sort
and whether a cursor is given, so any page of a shape reuses one compiled statement with
new parameters). Adding a filter field is one annotated field; adding a sort, one entry of
the orderings.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session
from typing_extensions import TypeVar

from tasktracker.db.base import Input
from tasktracker.db.errors import ValidationError
from tasktracker.db.fastpath.compiled import CompiledQuery, QueryCache
from tasktracker.db.fastpath.entities import entities
from tasktracker.db.fastpath.steps import Steps, run_steps
from tasktracker.db.pagination import (
    Ordering,
    Page,
    appended_keys,
    entity,
    make_page,
    page_parameters,
    paginate,
)

ModelT = TypeVar("ModelT")
RowT = TypeVar("RowT", bound=tuple[Any, ...], default=tuple[()])
ItemT = TypeVar("ItemT")
SortT = TypeVar("SortT", bound=Hashable)
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


class Criterion(abc.ABC):
    """How a filter field's value becomes a WHERE criterion, with bound parameters named
    after the field (so filters of one shape differ only in their parameters)."""

    def applies(self, value: Any) -> bool:
        """Whether the value sets a criterion (None leaves the field out)."""
        return value is not None

    def shape(self, value: Any) -> Hashable:
        """What of the value changes the statement (not only its parameters)."""
        return True

    def parameters(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value}

    @abc.abstractmethod
    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        """The criterion, its parameters bound to `value`."""


def _bound(name: str, value: Any, column: ColumnElement[Any]) -> Any:
    return bindparam(name, value, type_=column.type)


@dataclass(frozen=True)
class Equals(Criterion):
    column: Any

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        return self.column == _bound(name, value, self.column)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LessThan(Criterion):
    column: Any

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        return self.column < _bound(name, value, self.column)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AtLeast(Criterion):
    column: Any

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        return self.column >= _bound(name, value, self.column)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class OneOf(Criterion):
    """`column IN (...)` over the distinct values; an empty sequence sets no criterion."""

    column: Any

    def applies(self, value: Any) -> bool:
        return bool(value)

    def shape(self, value: Any) -> Hashable:
        return len(_distinct(value))

    def parameters(self, name: str, value: Any) -> dict[str, Any]:
        return {f"{name}_in_{i}": item for i, item in enumerate(_distinct(value))}

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        bound = [_bound(n, v, self.column) for n, v in self.parameters(name, value).items()]
        return self.column.in_(bound)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Flag(Criterion):
    """A boolean field: the expression when true, its negation when false."""

    expression: Any
    negation: Any = field(init=False)

    def __post_init__(self) -> None:
        # Built once: a hybrid's expression costs a fresh SQL construction on each access.
        object.__setattr__(self, "negation", ~self.expression)

    def shape(self, value: Any) -> Hashable:
        return bool(value)

    def parameters(self, name: str, value: Any) -> dict[str, Any]:
        return {}

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        return self.expression if value else self.negation  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LinkedToAny(Criterion):
    """Rows with a link row (of a many-to-many table) to one of the values: `EXISTS (SELECT
    FROM link WHERE <correlation> AND column IN (...))`, the link's index seeks it. An empty
    sequence sets no criterion, as `OneOf`'s."""

    column: Any
    correlation: Any

    def applies(self, value: Any) -> bool:
        return bool(value)

    def shape(self, value: Any) -> Hashable:
        return len(_distinct(value))

    def parameters(self, name: str, value: Any) -> dict[str, Any]:
        return {f"{name}_in_{i}": item for i, item in enumerate(_distinct(value))}

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        bound = [_bound(n, v, self.column) for n, v in self.parameters(name, value).items()]
        return exists().where(self.correlation, self.column.in_(bound))


@dataclass(frozen=True)
class LinkedToAll(LinkedToAny):
    """Rows with a link row to every one of the values: one `EXISTS` per value, each a
    lookup of the link's primary key."""

    def clause(self, name: str, value: Any) -> ColumnElement[bool]:
        return and_(
            *(
                exists().where(self.correlation, self.column == _bound(n, v, self.column))
                for n, v in self.parameters(name, value).items()
            )
        )


def _distinct(values: Sequence[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


class ListingFilter(Input):
    """A listing's filter: every field's `Annotated` metadata holds its `Criterion`; the
    criteria combine with AND.

    A bad value (of the wrong type, a naive datetime, an unknown field) raises our
    `ValidationError` naming the field, when the filter is built or changed."""

    _criteria: ClassVar[tuple[tuple[str, Criterion], ...] | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._criteria = None
        if cls.__pydantic_complete__:  # else its annotations resolve later: checked on use
            cls.criteria_by_field()

    @classmethod
    def criteria_by_field(cls) -> tuple[tuple[str, Criterion], ...]:
        """Each field with its criterion; a field without exactly one is a `TypeError`."""
        if cls._criteria is None:
            found = []
            for name, info in cls.model_fields.items():
                criteria = [m for m in info.metadata if isinstance(m, Criterion)]
                if len(criteria) != 1:
                    raise TypeError(f"{cls.__name__}.{name} must declare one Criterion")
                found.append((name, criteria[0]))
            cls._criteria = tuple(found)
        return cls._criteria

    def shape(self) -> tuple[Hashable, ...]:
        """Which criteria are set and how: filters of one shape share one statement (and
        one compiled query), differing only in `parameters()`."""
        return self.bound()[0]

    def parameters(self) -> dict[str, Any]:
        """The values, named as the bound parameters of `criteria()`."""
        return self.bound()[1]

    def bound(self) -> tuple[tuple[Hashable, ...], dict[str, Any]]:
        """`shape()` and `parameters()` in one pass (the fast path needs both per call)."""
        values = self.__dict__
        shape: list[Hashable] = []
        parameters: dict[str, Any] = {}
        for name, criterion in self.criteria_by_field():
            value = values[name]
            if not _sets(criterion, value):
                shape.append(None)
            else:
                shape.append(criterion.shape(value))
                parameters.update(criterion.parameters(name, value))
        return tuple(shape), parameters

    def criteria(self) -> list[ColumnElement[bool]]:
        """The WHERE criteria, their parameters bound to this filter's values."""
        values = self.__dict__
        return [
            criterion.clause(name, values[name])
            for name, criterion in self.criteria_by_field()
            if _sets(criterion, values[name])
        ]


def _sets(criterion: Criterion, value: Any) -> bool:
    """Whether the field's value sets its criterion (None never does: checked first, as
    most fields of a filter are unset)."""
    return value is not None and criterion.applies(value)


FilterT = TypeVar("FilterT", bound=ListingFilter)


class Listing(Generic[ModelT, FilterT, SortT, RowT]):
    """One listing of `model`: filtered by `filter` (an empty filter when none is given),
    ordered by one of `orderings`, read as tracked models or, if it has a read `row` (a
    `NamedTuple` whose fields are columns of the model), through the fast path."""

    def __init__(
        self,
        model: type[ModelT],
        filter: type[FilterT],
        orderings: Mapping[SortT, Ordering],
        row: type[RowT] | None = None,
    ) -> None:
        self.model = model
        self.filter = filter
        self.orderings = dict(orderings)
        fields: Sequence[str] = getattr(row, "_fields", ())
        self.columns = tuple(getattr(model, name) for name in fields)
        self._row = row
        self._make_row: Callable[[Sequence[Any]], RowT] | None = getattr(row, "_make", None)
        self._compiled: QueryCache[CompiledQuery[Any]] = QueryCache()
        self._statements: QueryCache[Select[Any]] = QueryCache()
        self._entity_queries: QueryCache[CompiledQuery[Any]] = QueryCache()

    @functools.cache  # noqa: B019 (listings are module-level constants)
    def _no_filter(self) -> FilterT:
        return self.filter()

    def ordering(self, sort: SortT) -> Ordering:
        ordering = self.orderings.get(sort)
        if ordering is None:
            allowed = ", ".join(str(s) for s in self.orderings)
            model = getattr(self.model, "__name__", None)
            raise ValidationError.single("sort", f"must be one of {allowed}", model=model)
        return ordering

    def criteria(self, filter: FilterT | None) -> list[ColumnElement[bool]]:
        return filter.criteria() if filter is not None else []

    def count(self, session: Session, filter: FilterT | None = None) -> int:
        statement = select(func.count()).select_from(self.model).where(*self.criteria(filter))
        return session.scalar(statement) or 0

    def ordered(self, statement: SelectT, filter: FilterT | None = None, *, sort: SortT) -> SelectT:
        """`statement` over the model, filtered and in the order of `sort`, unpaginated."""
        return statement.where(*self.criteria(filter)).order_by(*self.ordering(sort).order_by)

    def page(
        self,
        session: Session,
        statement: Select[Any],
        item: Callable[[Sequence[Any]], ItemT],
        *,
        sort: SortT,
        limit: int,
        cursor: str | None,
        filter: FilterT | None = None,
    ) -> Page[ItemT]:
        """The ORM path for any statement over the model: a page of `item`s, each made from
        the columns `statement` selects."""
        statement = statement.where(*self.criteria(filter))
        paged = paginate(statement, self.ordering(sort), limit, cursor)
        return make_page(session.execute(paged).all(), paged, limit, item)

    def entities(
        self,
        session: Session,
        filter: FilterT | None = None,
        *,
        sort: SortT,
        limit: int,
        cursor: str | None = None,
    ) -> Page[ModelT]:
        """A page of tracked models (the ORM path): read by a compiled query and made into
        the models the ORM's loader would make (`fastpath.entities`), else through the ORM."""
        call = self._call(filter, sort, limit, cursor)
        tracked = entities(self.model)
        if tracked.plain:
            query = self._compiled_page(self._entity_queries, tracked.columns, call, None)
            rows = query.all(session, **call.parameters)
            page = make_page(
                rows, query.statement, limit, tuple if appended_keys(query.statement) else None
            )
            loaded = tracked.load(session, page.items)
            if loaded is not None:
                return Page(loaded, page.next_cursor)

        def build() -> Select[Any]:
            statement = select(self.model).where(*call.filter.criteria())
            return paginate(statement, call.ordering, limit, cursor)

        statement = self._statements.get(call.shape, build)
        return make_page(
            session.execute(statement, call.parameters).all(), statement, limit, entity
        )

    def rows(
        self,
        session: Session,
        filter: FilterT | None = None,
        *,
        sort: SortT,
        limit: int,
        cursor: str | None = None,
    ) -> Page[RowT]:
        """A page of read rows (the fast path)."""
        return run_steps(session, self.row_steps(filter, sort=sort, limit=limit, cursor=cursor))

    def row_steps(
        self, filter: FilterT | None = None, *, sort: SortT, limit: int, cursor: str | None = None
    ) -> Steps[Page[RowT]]:
        """`rows` as the steps of a fast-path method (`fastpath.steps`), sync or async."""
        if self._make_row is None:
            raise TypeError("a listing without a read row has no fast path")
        call = self._call(filter, sort, limit, cursor)
        query = self._compiled_page(self._compiled, self.columns, call, self._row)
        rows = yield query.fetching(**call.parameters)
        made = not appended_keys(query.statement)
        return make_page(rows, query.statement, limit, None if made else self._make_row)

    def _compiled_page(
        self,
        cache: QueryCache[CompiledQuery[Any]],
        columns: Sequence[Any],
        call: _Call[FilterT],
        row: type[Any] | None,
    ) -> CompiledQuery[Any]:
        """The compiled page query of `columns` for the call's shape, built once per shape in
        `cache`; its rows are decoded straight into `row`s, unless sort keys follow the
        columns (or there is no `row`): tuples then."""

        def build() -> CompiledQuery[Any]:
            statement = select(*columns).where(*call.filter.criteria())
            paged = paginate(statement, call.ordering, call.limit, call.cursor, columns_only=True)
            return CompiledQuery(paged, tuple if row is None or appended_keys(paged) else row)

        return cache.get(call.shape, build)

    def _call(
        self, filter: FilterT | None, sort: SortT, limit: int, cursor: str | None
    ) -> _Call[FilterT]:
        """What a page call needs: its statement's shape (filter shape, sort, first or
        later page: the key of both paths' statement caches) and its parameters."""
        filter = filter if filter is not None else self._no_filter()
        ordering = self.ordering(sort)
        shape, parameters = filter.bound()
        parameters |= page_parameters(ordering, limit, cursor)
        return _Call(filter, ordering, (shape, sort, bool(cursor)), parameters, limit, cursor)


@dataclass(frozen=True)
class _Call(Generic[FilterT]):
    filter: FilterT
    ordering: Ordering
    shape: Hashable
    parameters: dict[str, Any]
    limit: int
    cursor: str | None


class NoFilter(ListingFilter):
    """The filter of a listing that has none."""
