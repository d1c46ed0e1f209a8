"""What a benchmark module hands back to bench/run.py: rows for the one table, and a summary line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One measured path: the ops/s of each timed run (the warm-up excluded)."""

    benchmark: str
    path: str
    ops_per_run: int
    rates: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def ms_per_op(self) -> float:
        return 1000 / self.median


@dataclass
class Result:
    rows: list[Row]
    summary: str
    notes: list[str] = field(default_factory=list)


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` takes, by the monotonic high-resolution clock."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def three_digits(value: float) -> str:
    """``value`` with 3 significant digits, never in exponent form (0.0123, 1.23, 123)."""
    if not value:
        return "0.00"
    rounded = float(f"{value:.3g}")
    return f"{rounded:.{max(0, 2 - _exponent(rounded))}f}"


def _exponent(value: float) -> int:
    return int(f"{abs(value):e}".split("e")[1])
