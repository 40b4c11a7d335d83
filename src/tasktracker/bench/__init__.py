"""`tasktracker bench`: the data layer timed against the raw driver, in one run.

- `dataset`: the reference data set (users, categories, tasks, conversations, messages),
  generated deterministically and loaded through the bulk path; reused when asked.
- `raw`: the same operations written against the raw driver (psycopg 3, sqlite3).
- `operations`: the benchmarked operations, each as a pair (project API, raw driver).
- `timing`: interleaved timing with warm-up, bounded in count and time, and the statistics.
- `concurrency`: N workers over a pool (threads and asyncio), throughput, p99, errors.
- `report`: the Rich table and the JSON document.
- `cli`: the Typer command.

Not part of the test suite: timings are never asserted by tests (see `tests/performance`
for the EXPLAIN checks).
"""
