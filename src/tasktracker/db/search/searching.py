"""Running a search: ranked, user-scoped, keyset-paged hits with a highlighted snippet.

Two statements per page, both through the session (so the scope's criteria and its guard
apply to each, as to any query):

1. the page: the matching rows' id, title, parent and rank, best first, after the cursor
   (`pagination.paginate`: the cursor holds the last hit's rank and id, as the database
   returned them), filtered by the domain's listing filter;
2. the snippets of that page's rows only (highlighting is the costly part of a search, so
   it is never done for a row that is not shown).

The rank is PostgreSQL's `ts_rank` over the weighted document, or FTS5's `bm25` with the
same weights, negated so that higher is better on both. The two formulas differ: the order
of the hits agrees on the strong cases (a title hit above a body hit, more hits above
fewer) but not in every tie; `docs/search.md` says more.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Float,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import Uuid

from tasktracker.db.pagination import Ordering, Page, SortKey, make_page, paginate
from tasktracker.db.search.index import SearchIndex, fts5_function, owner_phrase, regconfig
from tasktracker.db.search.query import SearchQuery
from tasktracker.db.settings import get_settings
from tasktracker.db.tenancy import scope_user_id

HIGHLIGHT = ("«", "»")
"""Around each matching word of a snippet."""
ELLIPSIS = "…"
SNIPPET_WORDS = 16

_QUERY = "search_query"
HIT_COLUMNS = ("kind", "id", "title", "parent_id", "rank")


@dataclass(frozen=True)
class SearchHit:
    """One row found: its kind (`task`, `message`...), id, title (if the kind has one),
    parent (a message's conversation), rank (higher is better) and highlighted snippet."""

    kind: str
    id: uuid.UUID
    title: str | None
    parent_id: uuid.UUID | None
    rank: float
    snippet: str = ""


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class Matching:
    """How one index matches a query on the session's backend: the criterion, the rank."""

    index: SearchIndex
    query: SearchQuery
    postgres: bool
    config: str

    @classmethod
    def of(cls, session: Session, index: SearchIndex, query: SearchQuery) -> Matching:
        return cls(index, query, is_postgres(session), get_settings().search_config)

    def tsquery(self, query: SearchQuery | None = None, name: str = _QUERY) -> ColumnElement[Any]:
        text = bindparam(name, (query or self.query).tsquery(), type_=Text)
        return func.to_tsquery(regconfig(self.config), text)

    def fts5(self, session: Session) -> ColumnElement[bool]:
        """The FTS5 MATCH: the scope's owner (an index lookup, beside the criteria's filter)
        and the query in the indexed fields only (never `user_id` or `id`)."""
        fields = " ".join(self.index.fields)
        expression = (
            f"{owner_phrase(scope_user_id(session))} AND {{{fields}}} : ({self.query.fts5()})"
        )
        # Named per index: the arms of one search bind each their own.
        name = f"{_QUERY}_{self.index.kind}"
        return fts5_function("match", self.index.fts_table, bindparam(name, expression, type_=Text))

    def statement(self, session: Session, *columns: Any) -> Select[Any]:
        """`SELECT columns` of the indexed table's rows that match."""
        model = self.index.model
        statement = select(*columns)
        if self.postgres:
            return statement.where(self.index.document(self.config).bool_op("@@")(self.tsquery()))
        shadow: Any = self.index.shadow
        on = and_(shadow.user_id == model.user_id, shadow.id == model.id)
        return statement.select_from(model).join(shadow, on).where(self.fts5(session))

    def rank(self) -> ColumnElement[float]:
        if self.postgres:
            # As float8: `ts_rank`'s float4 would come back rounded to text, and the cursor
            # holding it would compare wrong against the exact value.
            wanted = self.tsquery(self.query.wanted(), "search_rank_query")
            rank = func.ts_rank(self.index.document(self.config), wanted, type_=Float())
            return cast(rank, Double())
        weights = [bindparam(None, w, type_=Float()) for w in self.index.bm25_weights]
        return -fts5_function("bm25", self.index.fts_table, *weights, type_=Float())

    def snippet(self) -> ColumnElement[str]:
        start, stop = HIGHLIGHT
        if self.postgres:
            fields = [self.index.column(name) for name in self.index.fields]
            text = func.concat_ws(bindparam(None, f" {ELLIPSIS} ", type_=String), *fields)
            options = f"StartSel={start}, StopSel={stop}, MaxWords={SNIPPET_WORDS}, MinWords=5"
            return func.ts_headline(regconfig(self.config), text, self.tsquery(), options)
        arguments = (-1, start, stop, ELLIPSIS, SNIPPET_WORDS)
        return fts5_function(
            "snippet",
            self.index.fts_table,
            *(bindparam(None, a) for a in arguments),
            type_=String(),
        )

    def hit_columns(self) -> list[Any]:
        """`HIT_COLUMNS`: the columns of a `SearchHit` but its snippet."""
        index = self.index
        title = index.column(index.title) if index.title else null().cast(String)
        parent = index.column(index.parent) if index.parent else null().cast(Uuid)
        kind = bindparam(None, index.kind, type_=String)
        columns = (kind, index.column("id"), title, parent, self.rank())
        return [column.label(key) for column, key in zip(columns, HIT_COLUMNS, strict=True)]


Source = tuple[SearchIndex, Sequence[ColumnElement[bool]]]
"""An index to search, with the criteria (a listing filter's) its rows must also meet."""


def search(
    session: Session,
    sources: Sequence[Source],
    text: str,
    *,
    limit: int = 20,
    cursor: str | None = None,
    prefix: bool = False,
) -> Page[SearchHit]:
    """A page of the rows of `sources` matching `text` (see `query`), best first (ties:
    kind, then id, both descending), each with its snippet. Several sources are one
    `UNION ALL`, paged as one listing; a cursor belongs to the kinds it was made for."""
    query = SearchQuery.parse(text, prefix=prefix)
    arms = []
    for index, criteria in sources:
        matching = Matching.of(session, index, query)
        arms.append(matching.statement(session, *matching.hit_columns()).where(*criteria))
    hits = union_all(*arms).subquery("hits")
    name = "search-" + "-".join(index.kind for index, _ in sources)
    order = Ordering(name, tuple(SortKey(hits.c[key], True) for key in ("rank", "kind", "id")))
    statement = select(*(hits.c[key] for key in HIT_COLUMNS))
    paged = paginate(statement, order, limit, cursor)
    page = make_page(session.execute(paged).all(), paged, limit, hit)
    return with_snippets(session, page, {index.kind: index for index, _ in sources}, query)


def hit(row: Sequence[Any]) -> SearchHit:
    """The `SearchHit` (but its snippet) of a row of `HIT_COLUMNS`."""
    kind, id, title, parent_id, rank = row
    return SearchHit(kind, id, title, parent_id, rank)


def with_snippets(
    session: Session, page: Page[SearchHit], indexes: dict[str, SearchIndex], query: SearchQuery
) -> Page[SearchHit]:
    """The page's hits with their snippets, one statement per kind on the page."""
    snippets: dict[uuid.UUID, str] = {}
    for kind in dict.fromkeys(hit.kind for hit in page.items):
        matching = Matching.of(session, indexes[kind], query)
        id_column = matching.index.column("id")
        ids = [hit.id for hit in page.items if hit.kind == kind]
        statement = matching.statement(session, id_column, matching.snippet())
        snippets.update(
            (id, snippet) for id, snippet in session.execute(statement.where(id_column.in_(ids)))
        )
    items = [
        SearchHit(h.kind, h.id, h.title, h.parent_id, h.rank, snippets.get(h.id, ""))
        for h in page.items
    ]
    return Page(items, page.next_cursor)
