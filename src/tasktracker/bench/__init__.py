"""`tasktracker bench`: the data layer timed against the raw driver, in one run.

- `dataset`: the reference data set (users, categories, tasks, conversations, messages),
  generated deterministically and loaded through the bulk path; reused when asked.
- `raw`: the same operations written against the raw driver (psycopg 3, sqlite3): the
  baseline.
- `peers`: the same operations in plain SQLAlchemy Core and ORM (`--peers`).
- `operations`: the benchmarked operations, each through the raw driver, the project's fast
  path and ORM path (and the peers), checked to return the same rows.
- `results`: the contenders' names and what one operation's timing comes to.
- `timing`: interleaved timing with warm-up, bounded in count and time, and the statistics.
- `concurrency`: N workers over a pool (threads and asyncio), throughput, p99, errors.
- `pooled`: the concurrency rows, over the raw driver's pool and the project's.
- `report`: the Rich tables, the Markdown tables and the JSON document.
- `cli`: the Typer command.

Not part of the test suite: timings are never asserted by tests (see `tests/performance`
for the EXPLAIN checks).
"""
