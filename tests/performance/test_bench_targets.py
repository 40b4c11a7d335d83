"""The benchmark's targets are issue 24's, per project path, and judged per path."""

from __future__ import annotations

from tasktracker.bench import targets
from tasktracker.bench.results import FAST, ORM
from tasktracker.tasks.repository import TaskSort


def test_every_page_order_has_the_page_targets_on_both_backends() -> None:
    for sort in TaskSort:
        assert targets.bounds(f"page_{sort.value}", postgres=True) == {FAST: 1.3, ORM: 2.0}
        assert targets.bounds(f"page_{sort.value}", postgres=False) == {FAST: 1.5, ORM: 2.5}


def test_each_path_is_judged_by_its_own_bound() -> None:
    bounds = targets.bounds("insert_task", postgres=True)
    assert targets.met(bounds, {FAST: 1.19, ORM: 1.61}) == {FAST: True, ORM: False}
    assert targets.describe(bounds) == "fast path <= 1.2x, ORM path <= 1.6x"
    floor = targets.bounds("bulk_load", postgres=True)
    assert targets.met(floor, {FAST: 0.89}, floor=True) == {FAST: False}
    assert targets.bounds("offset_vs_keyset", postgres=True) == {}
