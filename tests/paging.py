"""Walking keyset-paginated listings, and the Unicode text their sort keys are tested with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tasktracker.db.pagination import Page

T = TypeVar("T")

# Letters whose lowercase differs between SQLite's built-in lower() (ASCII only),
# Python's str.lower() (full mapping) and PostgreSQL's lower() (simple mapping), mixed
# with plain ASCII so that names interleave: É é Ö ö Å å, Greek capital, small and final
# sigma, dotted capital I and dotless i, capital and small sharp s, the DŽ digraphs, the
# Ohm and Kelvin signs, Greek and Cyrillic letters, the ff ligature.
CASE_SENSITIVE = (
    "AaZzIi\u00c9\u00e9\u00d6\u00f6\u00c5\u00e5\u03a3\u03c3\u03c2\u0130\u0131\u1e9e\u00df"
    "\u01c4\u01c5\u01c6\u2126\u212a\u0386\u03ac\u0414\u0434\ufb00"
)
# Printable text that is never blank: no whitespace, controls or surrogates.
_LETTERS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))
unicode_names = st.text(
    alphabet=st.one_of(st.sampled_from(CASE_SENSITIVE), _LETTERS), min_size=1, max_size=12
)
page_sizes = st.integers(min_value=1, max_value=3)
paging = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def walk(fetch: Callable[[str | None], Page[T]], *, at_most: int) -> list[T]:
    """Every item of a listing, `fetch(cursor)` page after page until no cursor is left.

    A cursor that did not advance would loop forever: more than `at_most` pages fails."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(at_most):
        page = fetch(cursor)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor
    raise AssertionError(f"still a next page after {at_most} pages: the cursor does not advance")


def pages_needed(count: int, size: int) -> int:
    """How many pages `count` items take at `size` per page (an empty listing takes one)."""
    return max(1, -(-count // size)) + 1


def ids(items: Sequence[Any]) -> list[Any]:
    return [item.id for item in items]
