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

from tasktracker.bench.results import LABELS, RAW

if TYPE_CHECKING:
    from tasktracker.bench.anatomy import Layer


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


def _contenders(results: list[dict[str, Any]]) -> list[str]:
    """The contenders (besides the raw driver) of any of `results`, in column order."""
    found = {name for r in results for name in r["contenders"]}
    return [name for name in LABELS if name in found]


def _ratio(result: dict[str, Any], name: str) -> str:
    if name not in result["contenders"]:
        return "-"
    ratio = result["contenders"][name]["ratio"]
    return "-" if math.isnan(ratio) else f"{ratio:.2f}x"


def _missed(result: dict[str, Any]) -> list[str]:
    return [LABELS[name] for name, met in result["met"].items() if not met]


def _verdict(result: dict[str, Any]) -> str:
    if not result["met"]:
        return ""
    missed = _missed(result)
    return f"[red]MISSED: {', '.join(missed)}[/red]" if missed else "[green]met[/green]"


def _cell(result: dict[str, Any], name: str) -> str:
    """A contender's ratio, green or red where a target applies to it."""
    text = _ratio(result, name)
    if name not in result["met"]:
        return text
    colour = "green" if result["met"][name] else "red"
    return f"[{colour}]{text}[/{colour}]"


def _workers(side: dict[str, Any]) -> str:
    return (
        f"{side['ops_per_second']:,.0f} ops/s, p50 {side['median']:.1f} ms, "
        f"p99 {side['p99']:.1f} ms, {side['errors']} errors"
    )


def _rows(side: dict[str, Any]) -> str:
    return f"{side['rows_per_second']:,} rows/s"


def _kinds(
    results: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The latency, bulk-load and concurrency results."""
    throughput = [r for r in results if r["kind"] == "throughput"]
    return (
        [r for r in results if r["kind"] == "latency"],
        [r for r in throughput if "rows_per_second" in r["raw"]],
        [r for r in throughput if "ops_per_second" in r["raw"]],
    )


def print_results(console: Console, results: list[dict[str, Any]], title: str) -> None:
    """The tables of a run: per operation the raw driver's time and every contender's ratio
    to it (green: meets the target, red: misses it)."""
    latency, bulk, workers = _kinds(results)
    if latency:
        names = _contenders(latency)
        table = Table(
            title=f"{title}: latency (raw: median ms; the others: their median / raw median)"
        )
        for column in ("operation", "raw ms", *(LABELS[n] for n in names)):
            table.add_column(column, justify="left" if column == "operation" else "right")
        for column in ("target", "", "notes"):
            table.add_column(column)
        for r in latency:
            cells = (_cell(r, n) for n in names)
            table.add_row(
                r["title"], _ms(r["raw"]["median"]), *cells, r["target"] or "", _verdict(r),
                "; ".join(r["notes"]),
            )  # fmt: skip
        console.print(table)
    if bulk:
        names = _contenders(bulk)
        raw_rows = "raw (COPY)" if title.startswith("postgresql") else "raw"
        table = Table(title=f"{title}: bulk load (ratio = rows/s / raw rows/s)")
        for column in ("operation", raw_rows, *(LABELS[n] for n in names), "target", ""):
            table.add_column(column)
        for r in bulk:
            cells = (f"{_cell(r, n)} ({_rows(r['contenders'][n])})" for n in names)
            table.add_row(r["title"], _rows(r["raw"]), *cells, r["target"] or "", _verdict(r))
        console.print(table)
    if workers:
        names = _contenders(workers)
        table = Table(title=f"{title}: concurrency (ratio = ops/s / raw ops/s)")
        for column in ("workers", "raw", *(LABELS[n] for n in names), "target", "", "notes"):
            table.add_column(column)
        for r in workers:
            cells = (f"{_cell(r, n)}: {_workers(r['contenders'][n])}" for n in names)
            table.add_row(
                r["title"], _workers(r["raw"]), *cells, r["target"] or "", _verdict(r),
                "; ".join(r["notes"]),
            )  # fmt: skip
        console.print(table)
    for r in (r for r in results if r["kind"] == "comparison"):
        console.print(_comparison(r))


def _comparison(result: dict[str, Any]) -> str:
    offset = result["contenders"]["offset"]
    return (
        f"{result['title']}: OFFSET median {offset['median']:.3f} ms, keyset median "
        f"{result['raw']['median']:.3f} ms: OFFSET costs {offset['ratio']:.1f}x a keyset page"
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
    ]
    latency, bulk, workers = _kinds(document["results"])
    if latency:
        lines += _markdown_latency(latency)
    if bulk or workers:
        via = "COPY" if document["backend"] == "postgresql" else "executemany"
        lines += _markdown_throughput(bulk, workers, via)
    for r in (r for r in document["results"] if r["kind"] == "comparison"):
        lines += ["", f"{_comparison(r)}."]
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


def _markdown_latency(latency: list[dict[str, Any]]) -> list[str]:
    """Ratios (bold: the target missed), then every side's milliseconds."""
    names = _contenders(latency)
    lines = [
        "",
        "| operation | raw median (ms) | " + " | ".join(LABELS[n] for n in names) + " | target |",
        "|---|--:|" + "--:|" * len(names) + "---|",
    ]
    for r in latency:
        cells = (_bold_if_missed(r, n) for n in names)
        lines.append(
            f"| {r['title']} | {r['raw']['median']:.3f} | {' | '.join(cells)} | {_target(r)} |"
        )
    lines += ["", "| operation | side | median | p95 | p99 | cpu |", "|---|---|--:|--:|--:|--:|"]
    for r in latency:
        sides = [(RAW, r["raw"]), *((n, r["contenders"][n]) for n in names if n in r["contenders"])]
        lines += [
            f"| {r['title']} | {LABELS[name]} | {s['median']:.3f} | {s['p95']:.3f} "
            f"| {s['p99']:.3f} | {s['cpu_median']:.3f} |"
            for name, s in sides
        ]
    return lines


def _markdown_throughput(
    bulk: list[dict[str, Any]], workers: list[dict[str, Any]], via: str
) -> list[str]:
    names = _contenders(bulk + workers)
    lines = [
        "",
        "| throughput | raw | " + " | ".join(LABELS[n] for n in names) + " | target |",
        "|---|--:|" + "--:|" * len(names) + "---|",
    ]
    for r in bulk + workers:
        show = _rows if r in bulk else _workers
        raw = f"{show(r['raw'])} ({via})" if r in bulk else show(r["raw"])
        cells = (
            f"{_bold_if_missed(r, n)}: {show(r['contenders'][n])}" if n in r["contenders"] else "-"
            for n in names
        )
        lines.append(f"| {r['title']} | {raw} | {' | '.join(cells)} | {_target(r)} |")
    return lines


def _bold_if_missed(result: dict[str, Any], name: str) -> str:
    text = _ratio(result, name)
    return f"**{text}**" if result["met"].get(name) is False else text


def _target(result: dict[str, Any]) -> str:
    if not result["target"] or not result["met"]:
        return result["target"] or ""
    missed = _missed(result)
    return f"{result['target']} " + (f"**missed** ({', '.join(missed)})" if missed else "met")
