"""Case-insensitive text, the same on PostgreSQL and SQLite.

"Unique regardless of case" and "by name regardless of case" compare `lower(x)`. On
PostgreSQL, `lower()` lowercases every character by the Unicode simple mapping of the
database's LC_CTYPE (any UTF-8 locale: C.UTF-8, en_US.UTF-8...), so `Éclair` and `éclair`
collide; SQLite's built-in `lower()` folds ASCII only. So every SQLite connection made by
the engine factory gets `tasktracker_lower`, the same mapping in Python (`simple_lower`),
and `caseless(x)` renders as `lower(x)` on PostgreSQL and `tasktracker_lower(x)` on SQLite:
in the unique indexes, in the lookups by name or email, and in the orderings by name.

The SQLite function has a name of its own rather than replacing `lower()`: an index built
with one function and written by another would be corrupt, whereas a connection without
`tasktracker_lower` (a plain `sqlite3` shell) fails loudly on writes to those tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "tasktracker_lower"

# The two characters that `str.lower()` does not lowercase by the simple mapping: its full
# mapping turns `İ` into `i̇` (two characters) and a word-final `Σ` into `ς`.
_NOT_SIMPLE = {"\u0130": "i", "\u03a3": "\u03c3"}


def simple_lower(text: str | None) -> str | None:
    """`text` lowercased character by character (the Unicode simple mapping), as
    PostgreSQL's `lower()` does in a UTF-8 locale."""
    if text is None:
        return None
    if not any(char in text for char in _NOT_SIMPLE):
        return text.lower()
    return "".join(_NOT_SIMPLE.get(char) or char.lower() for char in text)


def register_sqlite_function(dbapi_connection: Any) -> None:
    """Make `tasktracker_lower` available on a SQLite connection (sqlite3 or aiosqlite).

    Deterministic, as SQLite requires of a function used in an index."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, simple_lower, deterministic=True)


class caseless(FunctionElement[str]):  # noqa: N801 (a SQL function, named like func.lower)
    """`lower(x)` on PostgreSQL, `tasktracker_lower(x)` on SQLite: the case-insensitive key."""

    type = String()
    inherit_cache = True


def _argument(element: caseless, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(caseless)
def _compile_lower(element: caseless, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({_argument(element, compiler, **kw)})"


@compiles(caseless, "sqlite")
def _compile_sqlite(element: caseless, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({_argument(element, compiler, **kw)})"
