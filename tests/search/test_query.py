"""The query syntax, parsed in Python (no database): what each backend is sent, and what is
refused, on `query`, with our `ValidationError`."""

from __future__ import annotations

import pytest

from tasktracker import ConfigurationError, ValidationError
from tasktracker.db.search import SearchQuery
from tasktracker.db.search.query import MAX_QUERY_LENGTH
from tasktracker.db.settings import load_settings


@pytest.mark.parametrize(
    ("text", "tsquery", "fts5"),
    [
        ("quarterly report", "(('quarterly') & ('report'))", '(("quarterly" AND "report"))'),
        ('"quarterly report"', "(('quarterly' <-> 'report'))", '(("quarterly report"))'),
        ("report -draft", "(('report') & !('draft'))", '(("report") NOT "draft")'),
        ("a b or c", "(('a') & ('b')) | (('c'))", '(("a" AND "b")) OR (("c"))'),
        ("e-mail", "(('e' <-> 'mail'))", '(("e mail"))'),
        ("100% done_ish", "((('100' | '-100')) & ('done' <-> 'ish'))", '(("100" AND "done ish"))'),
        ("REQ-1", "(('REQ' <-> ('1' | '-1')))", '(("REQ 1"))'),
        ("it's \\' \"x", "(('it' <-> 's') & ('x'))", '(("it s" AND "x"))'),
        ("Straße café", "(('Straße') & ('café'))", '(("Straße" AND "café"))'),
        ("nul\x00byte", "(('nul' <-> 'byte'))", '(("nul byte"))'),
        ("OR report or", "(('report'))", '(("report"))'),
    ],
)
def test_rendered_for_each_backend(text: str, tsquery: str, fts5: str) -> None:
    query = SearchQuery.parse(text)
    assert query.tsquery() == tsquery
    assert query.fts5() == fts5


def test_prefix_applies_to_the_last_word_typed() -> None:
    query = SearchQuery.parse("quarterly rep", prefix=True)
    assert query.tsquery() == "(('quarterly') & ('rep':*))"
    assert query.fts5() == '(("quarterly" AND "rep"*))'
    assert "*" not in SearchQuery.parse('"quarterly rep"', prefix=True).tsquery()
    assert "*" not in SearchQuery.parse("report -dra", prefix=True).fts5()
    assert SearchQuery.parse("REQ-1", prefix=True).tsquery() == "(('REQ' <-> ('1':* | '-1':*)))"


def test_ranking_query_drops_the_exclusions() -> None:
    assert SearchQuery.parse("report -draft").wanted().tsquery() == "(('report'))"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be blank"),
        ("   \t\n", "must not be blank"),
        ("x" * (MAX_QUERY_LENGTH + 1), f"at most {MAX_QUERY_LENGTH} characters"),
        ("x " * 10_000, f"at most {MAX_QUERY_LENGTH} characters"),
        ("%%% ___ \\\\ \"\" ''", "has no word"),
        ("🎉🚀", "has no word"),
        ("\x00", "has no word"),
        ("-draft", "not excluded"),
        ("report or -draft", "not excluded"),
        (" ".join(["w"] * 33), "at most 32 words"),
        (None, "must be text"),
    ],
)
def test_refused_on_query(text: object, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SearchQuery.parse(text)
    assert raised.value.fields == {"query"}
    assert message in str(raised.value)


@pytest.mark.parametrize("config", ["english", "simple", "pg_catalog_x"])
def test_text_search_configuration_setting(config: str) -> None:
    assert load_settings(search_config=config).search_config == config


@pytest.mark.parametrize("config", ["", "English", "simple'::regconfig; --", "a b"])
def test_a_configuration_name_spelled_into_the_sql_is_checked(config: str) -> None:
    with pytest.raises(ConfigurationError, match="SEARCH_CONFIG"):
        load_settings(search_config=config)
