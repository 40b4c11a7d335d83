"""Typo-tolerant title lookup: PostgreSQL's `pg_trgm`, where the database has the extension.

`similarity(title, text)` (and `title % text`, above `pg_trgm.similarity_threshold`, 0.3 by
default) finds `Quarterly report` for `Quartely reprot`, among the scope's rows (read by
the user's key index). The migrations do not create the extension: an extension is the
server's (its availability differs between servers and versions, and a role may not be
allowed to create one), so an operator who wants the lookup runs `CREATE EXTENSION pg_trgm`
(docs/search.md). Without it, and on SQLite, the lookup raises `ConfigurationError`, and
nothing else changes.
"""

from __future__ import annotations

from sqlalchemy import Float, String, bindparam, func, select
from sqlalchemy.orm import Session

from tasktracker.db.errors import ConfigurationError
from tasktracker.db.search.index import SearchIndex
from tasktracker.db.search.query import SearchQuery
from tasktracker.db.search.searching import SearchHit, is_postgres

UNAVAILABLE = "typo-tolerant title lookup needs PostgreSQL with the pg_trgm extension"


def has_trigrams(session: Session) -> bool:
    """Whether the database has pg_trgm (a catalog read, below the scope: no user data)."""
    if not is_postgres(session):
        return False
    found = "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"
    return session.connection().exec_driver_sql(found).first() is not None


def similar_titles(
    session: Session, index: SearchIndex, text: str, *, limit: int = 10
) -> list[SearchHit]:
    """The rows whose title is most like `text`, most similar first (rank: the similarity,
    0 to 1), `limit` of them; the snippet is the title. The text is checked as a search
    query is (not blank, at most 500 characters), then compared as typed."""
    SearchQuery.parse(text)
    if index.title is None or not has_trigrams(session):
        raise ConfigurationError(UNAVAILABLE)
    title = index.column(index.title)
    typed = bindparam("similar_to", text.strip(), type_=String)
    similarity = func.similarity(title, typed, type_=Float())
    statement = (
        select(index.column("id"), title, similarity)
        .where(title.op("%")(typed))
        .order_by(similarity.desc(), index.column("id").desc())
        .limit(limit)
    )
    return [
        SearchHit(index.kind, id, name, None, rank, name)
        for id, name, rank in session.execute(statement)
    ]
