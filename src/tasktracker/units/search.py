"""Search across every domain: one ranked listing of a user's tasks, messages, requirements,
test specifications and steps (`unit.search.everything("quarterly report")`).

Above the domains, as a unit is: it only names each domain's `SearchIndex`; the core's
`search` runs them as one `UNION ALL`, in the unit's scope like any query.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tasktracker.chat.models import MESSAGE_SEARCH
from tasktracker.db.pagination import Page
from tasktracker.db.search import SearchHit, SearchIndex, search
from tasktracker.db.tenancy import scope_user_id
from tasktracker.tasks.models import TASK_SEARCH
from tasktracker.testspec.models.requirements import REQUIREMENT_SEARCH
from tasktracker.testspec.models.specifications import SPECIFICATION_SEARCH, STEP_SEARCH

EVERY_INDEX: tuple[SearchIndex, ...] = (
    TASK_SEARCH,
    MESSAGE_SEARCH,
    REQUIREMENT_SEARCH,
    SPECIFICATION_SEARCH,
    STEP_SEARCH,
)
"""Every searchable table, each hit typed by its `kind`."""


class SearchService:
    """Searches of everything a user owns (a user scope, as a tenant repository needs)."""

    def __init__(self, session: Session) -> None:
        scope_user_id(session)
        self.session = session

    def everything(
        self, query: str, *, limit: int = 20, cursor: str | None = None, prefix: bool = False
    ) -> Page[SearchHit]:
        """Hits of every kind matching `query`, best first, as one listing (docs/search.md)."""
        sources = [(index, ()) for index in EVERY_INDEX]
        return search(self.session, sources, query, limit=limit, cursor=cursor, prefix=prefix)
