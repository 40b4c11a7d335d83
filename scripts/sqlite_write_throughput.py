"""SQLite write throughput of the public API with 1, 4 and 20 threads (docs/benchmarks.md).

Each thread repeats one unit of work that reads, then writes: it creates a task for its
own user, reads it back and updates it (`user_scope`, commit). Every unit holds SQLite's
write lock from BEGIN IMMEDIATE to COMMIT, so units of all threads queue on one lock.
Prints a Markdown table: units per second, p50 and p99 latency, errors.

    .venv/bin/python scripts/sqlite_write_throughput.py [--seconds 5] [--threads 1 4 20]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import uuid
from pathlib import Path

from tasktracker.accounts.models import User
from tasktracker.admin import schema
from tasktracker.bench.concurrency import Round, run_threads
from tasktracker.db.sessions import Database
from tasktracker.db.settings import load_settings
from tasktracker.tasks.repository import TaskRepository


def _users(db: Database, count: int) -> list[uuid.UUID]:
    with db.session() as session:
        users = [
            User(email=f"w{i}@example.com", username=f"writer_{i}", password_hash="x" * 20)
            for i in range(count)
        ]
        session.add_all(users)
    return [user.id for user in users]


def _round(db: Database, users: list[uuid.UUID], threads: int, seconds: float) -> Round:
    def unit(worker: int, i: int) -> None:
        with db.user_scope(users[worker]) as session:
            tasks = TaskRepository(session)
            task = tasks.create({"title": f"task {i}"})
            tasks.get(task.id)
            tasks.update(task.id, {"status": "in_progress"})

    run_threads(unit, threads, min(0.5, seconds))  # warm-up: connections, caches
    return run_threads(unit, threads, seconds)


def _ms(latencies: list[float], q: int) -> float:
    return statistics.quantiles(latencies, n=100)[q - 1] * 1000 if len(latencies) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 20])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'throughput.db'}"
        db = Database.from_settings(load_settings(database_url=url))
        try:
            schema.upgrade(db.engine)
            users = _users(db, max(args.threads))
            print(f"SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}, ", end="")
            print(f"{args.seconds:g} s per round\n")
            print("| threads | units/s | p50 ms | p99 ms | errors |")
            print("| ---: | ---: | ---: | ---: | --- |")
            for threads in args.threads:
                result = _round(db, users, threads, args.seconds)
                errors = ", ".join(f"{k} {v}" for k, v in result.errors.items()) or "0"
                p50, p99 = _ms(result.latencies, 50), _ms(result.latencies, 99)
                rate = f"{result.throughput:,.0f}"
                print(f"| {threads} | {rate} | {p50:.1f} | {p99:.1f} | {errors} |")
        finally:
            db.dispose()


if __name__ == "__main__":
    main()
