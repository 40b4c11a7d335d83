"""Where the project's time goes: the project side of an operation under two profilers.

1. pyinstrument (a dev extra; skipped when missing): a wall-clock call tree, waits on the
   server included (`<op>.txt` and `<op>.html`).
2. cProfile timed by this process's CPU clock: where the client-side CPU goes, unaffected
   by waiting or by other processes on the machine (appended to `<op>.txt`).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from pathlib import Path

from tasktracker.bench.operations import Op


def _loop(op: Op, seconds: float, calls: int) -> Callable[[], int]:
    def loop() -> int:
        deadline = time.perf_counter() + seconds
        for i in range(calls):
            op.project(op.params(i))
            if op.after is not None:
                op.after()
            if time.perf_counter() >= deadline:
                return i + 1
        return calls

    return loop


def profile(op: Op, directory: Path, *, seconds: float = 3.0, calls: int = 5_000) -> Path:
    """Profile the project side of `op`; returns the path of the text report."""
    directory.mkdir(parents=True, exist_ok=True)
    sections: list[str] = []
    try:
        from pyinstrument import Profiler
    except ImportError:
        sections.append("(pyinstrument not installed: pip install -e '.[dev]')\n")
    else:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        _loop(op, seconds, calls)()
        profiler.stop()
        (directory / f"{op.key}.html").write_text(profiler.output_html(), encoding="utf-8")
        sections.append(profiler.output_text(unicode=True, color=False))
    cpu_profiler = cProfile.Profile(time.process_time)
    started = time.process_time()
    done = cpu_profiler.runcall(_loop(op, seconds, calls))
    per_call = (time.process_time() - started) / max(done, 1) * 1000
    out = io.StringIO()
    out.write(
        f"cProfile, CPU clock: {done} calls, {per_call:.3f} ms CPU per call "
        "(profiler overhead included)\n"
    )
    stats = pstats.Stats(cpu_profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    sections.append(out.getvalue())
    path = directory / f"{op.key}.txt"
    path.write_text("\n".join(sections), encoding="utf-8")
    return path
