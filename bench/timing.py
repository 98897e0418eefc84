"""Timing runs and summarising them: median and spread (min, max, interquartile range)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each timed run of one measurement."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def minimum(self) -> float:
        return min(self.runs)

    @property
    def maximum(self) -> float:
        return max(self.runs)

    @property
    def iqr(self) -> tuple[float, float]:
        """First and third quartiles; with fewer than four runs, the minimum and maximum."""
        if len(self.runs) < 4:
            return self.minimum, self.maximum
        q1, _, q3 = statistics.quantiles(self.runs, n=4, method="inclusive")
        return q1, q3

    def as_json(self) -> dict[str, Any]:
        q1, q3 = self.iqr
        return {"runs": len(self.runs), "median_s": self.median, "min_s": self.minimum, "max_s": self.maximum,
                "q1_s": q1, "q3_s": q3, "each_s": list(self.runs)}


def time_runs(action: Callable[[], object], *, runs: int, warmups: int = 0) -> Timing:
    """Call ``action`` ``warmups`` times untimed, then ``runs`` times timed."""
    for _ in range(warmups):
        action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return Timing(tuple(timings))


def duration(seconds: float) -> str:
    """``0.0123`` as ``12.3 ms``, ``12.3`` as ``12.3 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"
