"""A search query, parsed once in Python and rendered for each backend.

The syntax is PostgreSQL's `websearch_to_tsquery`: words (all must match), `"quoted
phrases"`, `-word` / `-"phrase"` to exclude, and `or` between two alternatives (`a b or c`
is `(a and b) or c`, as there). It is parsed here rather than handed to the database, so
both backends accept the same queries and mean the same by them: PostgreSQL gets a
`to_tsquery` text, SQLite an FTS5 `MATCH` expression, both built from words only.

A word is a run of letters and digits; everything else (operators, quotes, backslashes,
`%`, `_`, NUL, emoji, punctuation) separates words and never reaches the SQL as syntax. A
term of several words (`e-mail`, `REQ-1`, `"quarterly report"`) is a phrase. With `prefix`, the
last word typed matches as a prefix (search as you type).

Refused, with `ValidationError` on `query`: a blank query, one longer than
`MAX_QUERY_LENGTH` characters or with more than `MAX_WORDS` words, one with no word, and
an alternative that only excludes (it would match nearly every row: a full scan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasktracker.db.errors import ValidationError

MAX_QUERY_LENGTH = 500
MAX_WORDS = 32

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """Words that must appear together, in order (one word: anywhere)."""

    words: tuple[str, ...]
    excluded: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """Alternatives (OR) of terms that must all match (AND)."""

    alternatives: tuple[tuple[Term, ...], ...]

    @classmethod
    def parse(cls, text: object, *, prefix: bool = False) -> SearchQuery:
        if not isinstance(text, str):
            raise _invalid("must be text")
        if not text.strip():
            raise _invalid("must not be blank")
        if len(text) > MAX_QUERY_LENGTH:
            raise _invalid(f"must be at most {MAX_QUERY_LENGTH} characters")
        alternatives: list[list[Term]] = [[]]
        for match in _TOKEN.finditer(text):
            negation, quoted, bare = match.groups()
            if bare is not None and bare.lower() == "or":
                if alternatives[-1]:
                    alternatives.append([])
                continue
            excluded = bool(negation) or (bare is not None and bare.startswith("-"))
            words = tuple(_WORD.findall(quoted if quoted is not None else bare))
            if words:
                alternatives[-1].append(Term(words, excluded))
        found = [tuple(terms) for terms in alternatives if terms]
        count = sum(len(term.words) for terms in found for term in terms)
        if not count:
            raise _invalid("has no word to search for (letters or digits)")
        if count > MAX_WORDS:
            raise _invalid(f"must have at most {MAX_WORDS} words")
        if any(all(term.excluded for term in terms) for terms in found):
            raise _invalid("needs a word that is not excluded in each alternative")
        if prefix:
            found[-1] = _with_prefix(found[-1], text)
        return cls(tuple(found))

    def wanted(self) -> SearchQuery:
        """The query without its exclusions: what PostgreSQL ranks by (`ts_rank` of a query
        with a negation is 0 for every row)."""
        return SearchQuery(
            tuple(tuple(t for t in terms if not t.excluded) for terms in self.alternatives)
        )

    def tsquery(self) -> str:
        """The PostgreSQL `to_tsquery` text: each word quoted (it holds no quote)."""
        return " | ".join(
            "(" + " & ".join(_ts_term(term) for term in terms) + ")" for terms in self.alternatives
        )

    def fts5(self) -> str:
        """The SQLite FTS5 expression: each word quoted (it holds no double quote)."""
        rendered = []
        for terms in self.alternatives:
            wanted = " AND ".join(_fts5_term(t) for t in terms if not t.excluded)
            expression = f"({wanted})"
            for term in terms:
                if term.excluded:
                    expression += f" NOT {_fts5_term(term)}"
            rendered.append(f"({expression})")
        return " OR ".join(rendered)


def _with_prefix(terms: tuple[Term, ...], text: str) -> tuple[Term, ...]:
    """The last term as a prefix, if it was typed last, bare and not excluded."""
    last = terms[-1]
    if last.excluded or text.rstrip().endswith('"'):
        return terms
    return (*terms[:-1], Term(last.words, last.excluded, prefix=True))


def _ts_term(term: Term) -> str:
    last = len(term.words) - 1
    phrase = " <-> ".join(
        _ts_word(word, term.prefix and i == last) for i, word in enumerate(term.words)
    )
    return f"!({phrase})" if term.excluded else f"({phrase})"


def _ts_word(word: str, prefix: bool) -> str:
    """A word as a `to_tsquery` operand. PostgreSQL's parser reads the `-1` of `REQ-1` as a
    signed number (lexeme `'-1'`), so a number also matches with a minus sign."""
    star = ":*" if prefix else ""
    if word.isdigit():
        return f"('{word}'{star} | '-{word}'{star})"
    return f"'{word}'{star}"


def _fts5_term(term: Term) -> str:
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def _invalid(message: str) -> ValidationError:
    return ValidationError.single("query", message)
