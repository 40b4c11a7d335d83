"""The contenders of a run and what one operation's timing comes to.

The raw driver is the baseline (1.0); every other contender's ratio is to it, in the same
run. The targets apply to the project's two paths: the fast path (read rows, compiled
statements) and the ORM path (identity-mapped objects).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from tasktracker.bench.timing import Stats

RAW = "raw"
FAST = "fast"
ORM = "orm"
PEER_CORE = "peer_core"
PEER_ORM = "peer_orm"
LABELS = {
    RAW: "raw driver",
    FAST: "fast path",
    ORM: "ORM path",
    PEER_CORE: "SQLAlchemy Core",
    PEER_ORM: "SQLAlchemy ORM",
}
"""Every contender, in the order of the tables' columns."""
PROJECT = (FAST, ORM)
"""The contenders the targets apply to."""


def side(stats: Stats, cpu: list[float], **extra: Any) -> dict[str, Any]:
    """One side's statistics (ms) with its median client CPU per call."""
    cpu_median = round(statistics.median(cpu) * 1000, 4) if cpu else math.nan
    return {**extra, "cpu_median": cpu_median, **stats.as_dict()}


@dataclass
class Result:
    key: str
    title: str
    kind: str
    """"latency" (ratio = contender median / raw median), "throughput" (ratio = contender
    throughput / raw throughput) or "comparison" (both raw: the contender is OFFSET paging,
    the baseline a keyset page)."""
    raw: dict[str, Any]
    contenders: dict[str, dict[str, Any]]
    """Each contender's statistics and its `ratio` to the raw side."""
    target: str | None = None
    met: dict[str, bool] = field(default_factory=dict)
    """For each of the project's paths, whether its ratio meets the target."""
    same_rows: dict[str, bool] = field(default_factory=dict)
    """For each contender checked before timing: whether it returned the raw side's rows."""
    rows: int | None = None
    """How many rows (ids, statuses, steps) the raw side returned in that check."""
    notes: list[str] = field(default_factory=list)

    def ratio(self, name: str) -> float:
        return float(self.contenders[name]["ratio"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "raw": self.raw,
            "contenders": self.contenders,
            "target": self.target,
            "met": self.met,
            "same_rows": self.same_rows,
            "rows": self.rows,
            "notes": self.notes,
        }


def with_ratio(stats: dict[str, Any], ratio: float) -> dict[str, Any]:
    return {"ratio": ratio if math.isnan(ratio) else round(ratio, 3), **stats}
