"""Where the project's time goes: each of the project's paths of an operation under two
profilers (`<op>.<contender>.txt` and `.html`).

1. pyinstrument (a dev extra; skipped when missing): a wall-clock call tree, waits on the
   server included (text and HTML).
2. cProfile timed by this process's CPU clock: where the client-side CPU goes, unaffected
   by waiting or by other processes on the machine (appended to the text).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from pathlib import Path

from tasktracker.bench.operations import Op


def _loop(op: Op, contender: str, seconds: float, calls: int) -> Callable[[], int]:
    call = op.paths[contender]

    def loop() -> int:
        deadline = time.perf_counter() + seconds
        for i in range(calls):
            call(op.params(i))
            if op.after is not None:
                op.after()
            if time.perf_counter() >= deadline:
                return i + 1
        return calls

    return loop


def profile(
    op: Op, contender: str, directory: Path, *, seconds: float = 3.0, calls: int = 5_000
) -> Path:
    """Profile one of the project's paths (`contender`: `fast` or `orm`) of `op`; returns the
    path of the text report."""
    directory.mkdir(parents=True, exist_ok=True)
    sections: list[str] = []
    try:
        from pyinstrument import Profiler
    except ImportError:
        sections.append("(pyinstrument not installed: pip install -e '.[dev]')\n")
    else:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        _loop(op, contender, seconds, calls)()
        profiler.stop()
        (directory / f"{op.key}.{contender}.html").write_text(
            profiler.output_html(), encoding="utf-8"
        )
        sections.append(profiler.output_text(unicode=True, color=False))
    cpu_profiler = cProfile.Profile(time.process_time)
    started = time.process_time()
    done = cpu_profiler.runcall(_loop(op, contender, seconds, calls))
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
    report = directory / f"{op.key}.{contender}.txt"
    report.write_text("\n".join(sections), encoding="utf-8")
    return report
