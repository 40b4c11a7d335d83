"""Full-text search, one capability for every domain (docs/search.md).

A domain declares a `SearchIndex` beside its models and searches it with `search`, passing
its listing filter's criteria; the search revision builds each index's objects; `query`
parses what a user typed, the same for both backends.
"""

from tasktracker.db.base import SearchShadow
from tasktracker.db.search.index import SearchIndex
from tasktracker.db.search.query import SearchQuery
from tasktracker.db.search.searching import SearchHit, Source, search

__all__ = ["SearchHit", "SearchIndex", "SearchQuery", "SearchShadow", "Source", "search"]
