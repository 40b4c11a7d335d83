"""Typo-tolerant title lookup: PostgreSQL's `pg_trgm`, where the extension is installed.

`title % text` (trigram similarity above `pg_trgm.similarity_threshold`, 0.3 by default)
finds `Quartely report` for `quarterly`, through the trigram GIN index the search revision
builds on the titles when the server has the extension. Where it has not (and on SQLite,
which has no trigrams) the lookup raises `ConfigurationError`, and nothing else changes:
full-text search works without it.
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
