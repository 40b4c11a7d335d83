"""`tasktracker bench`: load (or reuse) the reference data set and time the data layer
against the raw driver on the configured database."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tasktracker.bench.timing import Budget
from tasktracker.db.errors import TaskTrackerError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from tasktracker.bench import dataset
    from tasktracker.bench.anatomy import Layer
    from tasktracker.bench.results import Result

# The data layer, the data set and the operations (Faker, the raw drivers' pools) are
# imported when the benchmark runs, not whenever the `tasktracker` command starts.

CONCURRENCY = ("threads", "asyncio")
WORKERS = (20, 100)
# Wide enough for the results table when the output goes to a file or a pipe.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False)


def bench(  # noqa: PLR0917 - one CLI option per parameter
    users: Annotated[int, typer.Option(min=1, help="Users in the data set.")] = 100,
    tasks_per_user: Annotated[int, typer.Option(min=200, help="Tasks per user.")] = 10_000,
    long_messages: Annotated[
        int, typer.Option(min=60, help="Messages of each user's long conversation.")
    ] = 200,
    spec_steps: Annotated[
        int, typer.Option(min=1, help="Steps of each user's benchmark specification.")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the generated content.")] = 42,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="Reuse a loaded data set of this seed and size.")
    ] = False,
    load_only: Annotated[
        bool, typer.Option("--load-only", help="Load the data set and stop.")
    ] = False,
    drop: Annotated[bool, typer.Option("--drop", help="Delete the data set at the end.")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only these operations (keys as in the JSON)."),
    ] = None,
    warmup: Annotated[int, typer.Option(min=0, help="Warm-up rounds per operation.")] = 30,
    rounds: Annotated[int, typer.Option(min=1, help="Most timed rounds per operation.")] = 1_000,
    seconds: Annotated[float, typer.Option(min=0.1, help="Most seconds per operation.")] = 8.0,
    concurrency_seconds: Annotated[
        float, typer.Option(min=0.1, help="Seconds per concurrency round (2 per side).")
    ] = 3.0,
    depth: Annotated[int, typer.Option(min=1, help="Depth of the keyset/OFFSET page.")] = 9_000,
    bulk_rows: Annotated[int, typer.Option(min=1, help="Rows per timed bulk load.")] = 10_000,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the results to this file.")
    ] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="Also write them as Markdown tables.")
    ] = None,
    anatomy: Annotated[
        bool,
        typer.Option("--anatomy", help="Also time a page read layer by layer (see bench.anatomy)."),
    ] = False,
    peers: Annotated[
        bool,
        typer.Option("--peers", help="Also time plain SQLAlchemy Core and ORM on the same tables."),
    ] = False,
    profile_dir: Annotated[
        Path | None,
        typer.Option("--profile", help="Profile each operation's fast and ORM paths here."),
    ] = None,
) -> None:
    """Load the reference data set (default 100 users x 10,000 tasks) and time each
    operation through the raw driver and the project's fast and ORM paths (with --peers,
    plain SQLAlchemy Core and ORM too), interleaved; ratios are to the raw driver.

    Example: tasktracker bench --users 10 --tasks-per-user 10000 --peers --json bench.json
    """
    from tasktracker.admin import schema
    from tasktracker.bench import dataset
    from tasktracker.bench.report import markdown, print_layers, print_results, versions
    from tasktracker.db.engines import create_engine
    from tasktracker.db.settings import get_settings

    started = time.perf_counter()
    settings = get_settings()
    spec = dataset.DatasetSpec(users, tasks_per_user, long_messages, spec_steps, seed)
    engine = create_engine(settings)
    try:
        with engine.connect() as connection:
            schema.require_head(connection)
            found = dataset.existing(connection, seed)
        if reuse and found is not None and found == spec:
            load = dataset.LoadReport(reused=True)
            out.print(f"reusing the loaded data set ({users} users x {tasks_per_user:,} tasks)")
        else:
            if reuse:
                out.print("no loaded data set of this size: loading one")
            if found is not None:
                out.print(f"removing the previous data set ({dataset.remove(engine, seed)} users)")
            load = _load(engine, spec)
        meta: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": settings.database_url_masked,
            "backend": engine.dialect.name,
            "versions": versions(engine),
            "dataset": spec.as_dict(),
            "load": load.as_dict(),
            "budget": {"warmup": warmup, "rounds": rounds, "seconds": seconds},
            # Other processes on the machine skew wall-clock timings: keep a record.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
        if load_only:
            _write(json_file, meta, [])
            return
        with engine.connect() as connection:
            fixture = dataset.read_fixture(connection, seed)
    finally:
        engine.dispose()
    results, layers = _run(
        settings,
        fixture,
        spec,
        only=set(only or ()),
        budget=Budget(warmup, rounds, seconds),
        depth=depth,
        bulk_rows=bulk_rows,
        concurrency_seconds=concurrency_seconds,
        profile_dir=profile_dir,
        anatomy=anatomy,
        peers=peers,
    )
    print_results(out, [r.as_dict() for r in results], engine.dialect.name)
    if layers:
        print_layers(out, layers)
        meta["anatomy"] = [layer.as_dict() for layer in layers]
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    _write(json_file, meta, results)
    if markdown_file is not None:
        document = {**meta, "results": [r.as_dict() for r in results]}
        markdown_file.write_text(markdown(json.loads(json.dumps(document, default=str))))
    if drop:
        engine = create_engine(settings)
        try:
            dataset.remove(engine, seed)
        finally:
            engine.dispose()


def _load(engine: Any, spec: dataset.DatasetSpec) -> dataset.LoadReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tasktracker.bench import dataset

    counts = spec.counts()
    with Progress(
        TextColumn("loading {task.fields[table]:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("load", total=sum(counts.values()), table="")

        def advance(table: str, rows: int) -> None:
            progress.update(task, advance=rows, table=table)

        report = dataset.load(engine, spec, on_progress=advance)
    out.print(
        f"loaded {report.total:,} rows in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s; tasks: {report.rows.get('tasks', 0):,}); "
        f"statistics in {report.analyze_seconds:.1f} s"
    )
    return report


def _run(
    settings: Any,
    fixture: dataset.Fixture,
    spec: dataset.DatasetSpec,
    *,
    only: set[str],
    budget: Budget,
    depth: int,
    bulk_rows: int,
    concurrency_seconds: float,
    profile_dir: Path | None,
    anatomy: bool,
    peers: bool,
) -> tuple[list[Result], list[Layer]]:
    from tasktracker.bench.anatomy import measure as measure_layers
    from tasktracker.bench.asynchronous import measure_async
    from tasktracker.bench.operations import Bench
    from tasktracker.bench.pooled import concurrent
    from tasktracker.bench.profiling import profile
    from tasktracker.bench.results import PROJECT

    if not fixture.user_ids:
        raise TaskTrackerError("the data set has no users")
    bench = Bench(
        settings,
        fixture,
        tasks_per_user=spec.tasks_per_user,
        spec_steps=spec.spec_steps,
        depth=depth,
        bulk_rows=bulk_rows,
        budget=budget,
        peers=peers,
    )
    results: list[Result] = []
    layers: list[Layer] = []
    try:
        operations = bench.operations()
        try:
            _refuse_unknown(only, {op.key for op in operations})
            for op in operations:
                if only and op.key not in only:
                    continue
                out.print(f"timing {op.title} ...")
                results.append(bench.measure(op))
                if profile_dir is not None:
                    for path in (p for p in PROJECT if p in op.paths):
                        out.print(f"  profile: {profile(op, path, profile_dir)}")
            results += measure_async(bench, only, announce=out.print)
        finally:
            bench.remove_inserted()
            bench.remove_sink()
        if not only or "offset_vs_keyset" in only:
            results.append(bench.offset_versus_keyset())
        for mode in CONCURRENCY:
            for workers in WORKERS:
                if only and f"{mode}_{workers}" not in only and mode not in only:
                    continue
                out.print(f"{workers} {mode} workers ...")
                results.append(concurrent(bench, workers, mode, concurrency_seconds))
        if anatomy:
            out.print("anatomy of a page read ...")
            layers = measure_layers(bench, rounds=budget.rounds, seconds=budget.seconds * 2)
    finally:
        bench.close()
    return results, layers


def _refuse_unknown(only: set[str], keys: set[str]) -> None:
    from tasktracker.bench.asynchronous import KEYS

    known = keys | {"offset_vs_keyset", *CONCURRENCY, *KEYS}
    known |= {f"{mode}_{workers}" for mode in CONCURRENCY for workers in WORKERS}
    if unknown := only - known:
        raise TaskTrackerError(
            f"no operation {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
        )


def _write(path: Path | None, meta: dict[str, Any], results: list[Result]) -> None:
    from tasktracker.bench.report import write_json

    if path is None:
        return
    write_json(path, {**meta, "results": [r.as_dict() for r in results]})
    out.print(f"results written to {path}")


def bench_chat(
    messages: Annotated[
        list[int] | None,
        typer.Option("--messages", help="Conversation sizes to compare (repeatable)."),
    ] = None,
    rounds: Annotated[int, typer.Option(min=1, help="Timed calls per operation.")] = 200,
) -> None:
    """Time the assistant chat: append and read the last 50 of a short and a long
    conversation with tool parts, streaming deltas per second, the usage aggregates.

    Example: tasktracker bench-chat --messages 100 --messages 10000 --rounds 200
    """
    from tasktracker.bench import chat

    _print_rows(lambda engine: chat.run(engine, messages or [100, 10_000], rounds))


def bench_reminders(
    reminders: Annotated[int, typer.Option(min=10, help="Reminders in the table.")] = 1_000_000,
    users: Annotated[int, typer.Option(min=1, help="Users they belong to.")] = 100,
    rounds: Annotated[int, typer.Option(min=1, help="Timed calls per operation.")] = 200,
) -> None:
    """Time the reminder scheduler: the reminders due in a window (a page of 500) and
    marking a batch sent, over a table of every user's reminders.

    Example: tasktracker bench-reminders --reminders 1000000 --rounds 200
    """
    from tasktracker.bench import reminders as bench

    _print_rows(lambda engine: bench.run(engine, reminders, users, rounds))


def bench_runs(
    cases: Annotated[int, typer.Option(min=1, help="Cases in the JUnit report.")] = 10_000,
    requirements: Annotated[int, typer.Option(min=1, help="Requirements covered.")] = 1_000,
    executions: Annotated[int, typer.Option(min=1, help="Executions in the run.")] = 5_000,
    rounds: Annotated[int, typer.Option(min=1, help="Timed coverage reads.")] = 20,
) -> None:
    """Time test runs: a JUnit import of `cases` cases (rows/s, against the bulk path) and
    the coverage matrix of `requirements` requirements over `executions` executions.

    Example: tasktracker bench-runs --cases 10000 --requirements 1000 --executions 5000
    """
    from tasktracker.bench import runs

    _print_rows(lambda engine: runs.run(engine, cases, requirements, executions, rounds))


def bench_structure(
    subtasks: Annotated[int, typer.Option(min=1, help="Subtasks below the one tree.")] = 1000,
    tasks: Annotated[int, typer.Option(min=1, help="Tasks of the user (labels on them).")] = 10_000,
    rounds: Annotated[int, typer.Option(min=1, help="Timed calls per operation.")] = 50,
) -> None:
    """Time subtasks and labels: the tree of a task with 1,000 subtasks (one recursive
    query), its progress and children, label-filtered pages over 10,000 tasks, the
    counts per label.

    Example: tasktracker bench-structure --subtasks 1000 --tasks 10000 --rounds 50
    """
    from tasktracker.bench import structure

    _print_rows(lambda engine: structure.run(engine, tasks, subtasks, rounds))


def _print_rows(run: Callable[[Engine], list[dict[str, Any]]]) -> None:
    """A domain benchmark's rows, one JSON object a line, measured on the configured
    database at the head revision (a bench-* command's body)."""
    from tasktracker.admin import schema
    from tasktracker.db.engines import create_engine
    from tasktracker.db.settings import get_settings

    engine = create_engine(get_settings())
    try:
        with engine.connect() as connection:
            schema.require_head(connection)
        rows = run(engine)
    finally:
        engine.dispose()
    for row in rows:
        out.print(json.dumps(row))
