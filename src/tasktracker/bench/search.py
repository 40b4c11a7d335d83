"""The search rows of the benchmark: a page of 20 task hits for a common word, a rare word
and a phrase of the data set, each against the raw driver sending the same two statements
(the ranked page, then the snippets of its rows) that `TaskRepository.search` sends.

The words are read from the first user's first 2,000 tasks when the benchmark starts (the
data set is generated, so they depend on its seed): the most frequent word, the least frequent
(the first in alphabetical order of those), and the first two words of a title as a phrase.
"""

from __future__ import annotations

import collections
import re
import uuid
from collections.abc import Callable
from typing import Any

from tasktracker.bench.raw import RawDriver
from tasktracker.db.pagination import Page
from tasktracker.db.search import SearchQuery
from tasktracker.db.search.index import document_sql, owner_phrase, regconfig_sql
from tasktracker.db.search.searching import ELLIPSIS, HIGHLIGHT, SNIPPET_WORDS
from tasktracker.db.settings import get_settings
from tasktracker.tasks.models import TASK_SEARCH
from tasktracker.tasks.repository import TaskRepository

HITS = 20
_WORD = re.compile(r"[^\W\d_]{4,}")


def search_words(driver: RawDriver, connection: Any, user_id: uuid.UUID) -> dict[str, str]:
    """kind of query (`common`, `rare`, `phrase`) → a query of that kind on this data set."""
    statement = driver.sql(
        "SELECT title, description FROM tasks WHERE user_id = ? ORDER BY id LIMIT 2000"
    )
    rows = connection.execute(statement, (driver.uuid(user_id),)).fetchall()
    titles = [title for title, _ in rows]
    texts = [f"{title} {description or ''}" for title, description in rows]
    counts = collections.Counter(w.lower() for text in texts for w in _WORD.findall(text))
    common = counts.most_common(1)[0][0]
    rare = min(counts, key=lambda word: (counts[word], word))
    first = next(t for t in titles if len(_WORD.findall(t)) >= 2)
    return {
        "common": common,
        "rare": rare,
        "phrase": '"' + " ".join(_WORD.findall(first)[:2]) + '"',
    }


class RawSearch:
    """`TaskRepository.search(query)`, as raw SQL: the same page, then the same snippets."""

    def __init__(self, driver: RawDriver) -> None:
        self.driver = driver
        fields = TASK_SEARCH.fields
        if driver.is_postgres:
            config = get_settings().search_config
            document = document_sql(config, fields, list(fields))
            query = f"to_tsquery({regconfig_sql(config)}, %s)"
            self.page = (
                f"SELECT CAST(ts_rank({document}, {query}) AS float8) AS rank, id FROM tasks "  # noqa: S608
                f"WHERE user_id = %s AND {document} @@ {query} "
                f"ORDER BY rank DESC, id DESC LIMIT {HITS + 1}"
            )
            start, stop = HIGHLIGHT
            options = f"StartSel={start}, StopSel={stop}, MaxWords={SNIPPET_WORDS}, MinWords=5"
            self.snippets = (
                f"SELECT id, ts_headline({regconfig_sql(config)}, "  # noqa: S608
                f"concat_ws(' {ELLIPSIS} ', title, description), {query}, '{options}') "
                f"FROM tasks WHERE user_id = %s AND {document} @@ {query} AND id = ANY(%s)"
            )
        else:
            weights = ", ".join(str(w) for w in TASK_SEARCH.bm25_weights)
            joined = (
                "FROM tasks t JOIN tasks_search s ON s.user_id = t.user_id AND s.id = t.id "
                "WHERE tasks_search MATCH ? AND s.user_id = ? AND t.user_id = ?"
            )
            self.page = (
                f"SELECT -bm25(tasks_search, {weights}) AS rank, t.id {joined} "
                f"ORDER BY rank DESC, t.id DESC LIMIT {HITS + 1}"
            )
            start, stop = HIGHLIGHT
            self.snippets = (
                f"SELECT t.id, snippet(tasks_search, -1, '{start}', '{stop}', '{ELLIPSIS}', "  # noqa: S608
                f"{SNIPPET_WORDS}) {joined} AND t.id IN (SELECT value FROM json_each(?))"
            )

    def call(self, connection: Any, user_id: uuid.UUID, text: str) -> list[Any]:
        query = SearchQuery.parse(text)
        d = self.driver
        user = d.uuid(user_id)
        if d.is_postgres:
            tsquery, ranked = query.tsquery(), query.wanted().tsquery()
            rows = connection.execute(self.page, (ranked, user, tsquery)).fetchall()[:HITS]
            ids = [row[1] for row in rows]
            connection.execute(self.snippets, (tsquery, user, tsquery, ids)).fetchall()
            return rows  # type: ignore[no-any-return]
        fields = " ".join(TASK_SEARCH.fields)
        match = f"{owner_phrase(user_id)} AND {{{fields}}} : ({query.fts5()})"
        rows = connection.execute(self.page, (match, user, user)).fetchall()[:HITS]
        page_ids = "[" + ",".join(f'"{row[1]}"' for row in rows) + "]"
        connection.execute(self.snippets, (match, user, user, page_ids)).fetchall()
        return rows  # type: ignore[no-any-return]


def project_search(db: Any, text: str) -> Callable[[uuid.UUID], Page[Any]]:
    """The project's side: a read-only unit of the user, `TaskRepository.search`."""

    def call(user_id: uuid.UUID) -> Page[Any]:
        with db.user_scope(user_id, read_only=True) as session:
            return TaskRepository(session).search(text, limit=HITS)

    return call
