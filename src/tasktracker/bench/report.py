"""The results as Rich tables and as one JSON document (with versions and data-set size)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from tasktracker.bench.anatomy import Layer
    from tasktracker.bench.operations import Result


def versions(engine: Engine) -> dict[str, Any]:
    """Python, the libraries, the driver, the server and the machine."""
    found: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    for package in ("tasktracker", "sqlalchemy", "sqlmodel", "pydantic", "psycopg", "psycopg-pool"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    if engine.dialect.name == "postgresql":
        import psycopg

        found["libpq"] = psycopg.pq.version()
        with engine.connect() as connection:
            found["server"] = connection.scalar(text("SHOW server_version"))
            found["ssl"] = connection.scalar(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            )
    else:
        import sqlite3

        found["server"] = f"SQLite {sqlite3.sqlite_version}"
    found["git_commit"] = _git_commit()
    return found


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _ms(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}"


def _verdict(result: Result) -> str:
    if result.met is None:
        return ""
    return "[green]met[/green]" if result.met else "[red]MISSED[/red]"


def _ratio(result: Result) -> str:
    return "-" if math.isnan(result.ratio) else f"{result.ratio:.2f}x"


def print_results(console: Console, results: list[Result], title: str) -> None:
    latency = [r for r in results if r.kind == "latency"]
    if latency:
        table = Table(
            title=f"{title}: latency, ms (ratio = project median / raw median; "
            "cpu = this process's CPU time per call, median)"
        )
        for column in (
            "operation", "project med", "p95", "p99", "cpu", "raw med", "p95", "p99", "cpu",
        ):  # fmt: skip
            table.add_column(column, justify="left" if column == "operation" else "right")
        for column in ("ratio", "target", "", "notes"):
            table.add_column(column)
        for r in latency:
            p, w = r.project, r.raw
            table.add_row(
                r.title,
                _ms(p["median"]), _ms(p["p95"]), _ms(p["p99"]), _ms(p["cpu_median"]),
                _ms(w["median"]), _ms(w["p95"]), _ms(w["p99"]), _ms(w["cpu_median"]),
                _ratio(r), r.target or "", _verdict(r), "; ".join(r.notes),
            )  # fmt: skip
        console.print(table)
    bulk = [r for r in results if r.kind == "throughput" and "rows_per_second" in r.project]
    workers = [r for r in results if r.kind == "throughput" and "ops_per_second" in r.project]
    if bulk:
        table = Table(title=f"{title}: bulk load (ratio = project rows/s / raw rows/s)")
        raw_rows = "raw (COPY) rows/s" if title.startswith("postgresql") else "raw rows/s"
        for column in ("operation", "project rows/s", raw_rows, "ratio", "target", ""):
            table.add_column(column)
        for r in bulk:
            table.add_row(
                r.title,
                f"{r.project['rows_per_second']:,}",
                f"{r.raw['rows_per_second']:,}",
                _ratio(r),
                r.target or "",
                _verdict(r),
            )
        console.print(table)
    if workers:
        table = Table(title=f"{title}: concurrency (ratio = project ops/s / raw ops/s)")
        for column in (
            "workers", "project ops/s", "p50", "p99", "errors",
            "raw ops/s", "p50", "p99", "errors", "ratio", "target", "", "notes",
        ):  # fmt: skip
            table.add_column(column)
        for r in workers:
            p, w = r.project, r.raw
            table.add_row(
                r.title,
                f"{p['ops_per_second']:,.0f}", _ms(p["median"]), _ms(p["p99"]), str(p["errors"]),
                f"{w['ops_per_second']:,.0f}", _ms(w["median"]), _ms(w["p99"]), str(w["errors"]),
                _ratio(r), r.target or "", _verdict(r), "; ".join(r.notes),
            )  # fmt: skip
        console.print(table)
    for r in (r for r in results if r.kind == "comparison"):
        console.print(
            f"{r.title}: OFFSET median {_ms(r.project['median'])} ms, keyset median "
            f"{_ms(r.raw['median'])} ms: OFFSET costs {r.ratio:.1f}x a keyset page"
        )


def print_layers(console: Console, layers: list[Layer]) -> None:
    table = Table(title="anatomy of a page of 50 open tasks (ms; x = median / layer 1)")
    for column in ("layer", "median", "p95", "cpu", "x", "+ median over previous"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    base = layers[0].stats.median
    previous = base
    for layer in layers:
        median = layer.stats.median
        table.add_row(
            layer.name,
            _ms(median * 1000),
            _ms(layer.stats.p95 * 1000),
            _ms(layer.cpu_median * 1000),
            f"{median / base:.2f}x",
            f"{(median - previous) * 1000:+.3f}",
        )
        previous = median
    console.print(table)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def markdown(document: dict[str, Any]) -> str:
    """The JSON document of a run as Markdown tables (for docs/benchmarks.md)."""
    v, spec, load = document["versions"], document["dataset"], document["load"]
    lines = [
        f"{document['backend']} {v.get('server')}, Python {v['python']}, SQLAlchemy "
        f"{v['sqlalchemy']}, SQLModel {v['sqlmodel']}, psycopg {v['psycopg']}, "
        f"{v['cpus']} CPUs, commit {v.get('git_commit')}, {document['started_at']}, "
        f"load average {document.get('load_average_at_start')} at start, "
        f"{document.get('load_average_at_end')} at end; "
        f"data set {spec['users']} users x {spec['tasks_per_user']:,} tasks "
        + (
            f"(about {sum(spec['rows'].values()):,} rows, reused)"
            if load["reused"]
            else f"({load['rows']:,} rows, loaded in {load['seconds']:.1f} s, "
            f"{load['rows_per_second']:,} rows/s)"
        ),
        "",
        "| operation | project median | p95 | p99 | cpu | raw median | p95 | p99 | cpu "
        "| ratio | target |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    results = document["results"]
    for r in (r for r in results if r["kind"] == "latency"):
        p, w = r["project"], r["raw"]
        lines.append(
            f"| {r['title']} | {p['median']:.3f} | {p['p95']:.3f} | {p['p99']:.3f} "
            f"| {p['cpu_median']:.3f} | {w['median']:.3f} | {w['p95']:.3f} | {w['p99']:.3f} "
            f"| {w['cpu_median']:.3f} | {r['ratio']:.2f}x | {_target(r)} |"
        )
    lines += ["", "| throughput | project | raw | ratio | target |", "|---|--:|--:|--:|---|"]
    for r in (r for r in results if r["kind"] == "throughput"):
        p, w = r["project"], r["raw"]
        if "rows_per_second" in p:
            project = f"{p['rows_per_second']:,} rows/s"
            via = "COPY" if document["backend"] == "postgresql" else "executemany"
            raw = f"{w['rows_per_second']:,} rows/s ({via})"
        else:
            project = (
                f"{p['ops_per_second']:,.0f} ops/s, p50 {p['median']:.1f} ms, "
                f"p99 {p['p99']:.1f} ms, {p['errors']} errors"
            )
            raw = (
                f"{w['ops_per_second']:,.0f} ops/s, p50 {w['median']:.1f} ms, "
                f"p99 {w['p99']:.1f} ms, {w['errors']} errors"
            )
        lines.append(f"| {r['title']} | {project} | {raw} | {r['ratio']:.2f}x | {_target(r)} |")
    for r in (r for r in results if r["kind"] == "comparison"):
        lines += [
            "",
            f"{r['title']}: OFFSET median {r['project']['median']:.3f} ms, keyset "
            f"{r['raw']['median']:.3f} ms, OFFSET costs {r['ratio']:.1f}x a keyset page.",
        ]
    if document.get("anatomy"):
        layers = document["anatomy"]
        base = layers[0]["median"]
        lines += ["", "| layer | median | p95 | cpu | x raw |", "|---|--:|--:|--:|--:|"]
        lines += [
            f"| {layer['name']} | {layer['median']:.3f} | {layer['p95']:.3f} "
            f"| {layer['cpu_median']:.3f} | {layer['median'] / base:.2f}x |"
            for layer in layers
        ]
    return "\n".join(lines) + "\n"


def _target(result: dict[str, Any]) -> str:
    if not result["target"]:
        return ""
    return f"{result['target']} {'met' if result['met'] else '**missed**'}"
