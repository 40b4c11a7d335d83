"""Where the project's time goes: the project side of an operation under a profiler.

pyinstrument (a dev extra) when installed, else the standard library's cProfile.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from pathlib import Path

from tasktracker.bench.operations import Op


def profile(op: Op, directory: Path, *, seconds: float = 3.0, calls: int = 5_000) -> Path:
    """Run the project side of `op` repeatedly under a profiler; returns the text report."""
    directory.mkdir(parents=True, exist_ok=True)
    deadline = time.perf_counter() + seconds

    def loop() -> None:
        for i in range(calls):
            op.project(op.params(i))
            if op.after is not None:
                op.after()
            if time.perf_counter() >= deadline:
                break

    try:
        from pyinstrument import Profiler
    except ImportError:
        return _cprofile(op, directory, loop)
    profiler = Profiler(interval=0.0001)
    profiler.start()
    loop()
    profiler.stop()
    (directory / f"{op.key}.html").write_text(profiler.output_html(), encoding="utf-8")
    path = directory / f"{op.key}.txt"
    path.write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    return path


def _cprofile(op: Op, directory: Path, loop: object) -> Path:
    profiler = cProfile.Profile()
    profiler.runcall(loop)  # type: ignore[arg-type]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
    path = directory / f"{op.key}.cprofile.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path
