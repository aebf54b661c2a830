"""Timing for benchmarks/run.py: interleaved samples, medians and p99, the machine's facts.

Every figure is taken with ``time.perf_counter_ns``. A call that takes microseconds is timed
in batches (enough calls for a batch to last about :data:`BATCH_NS`), and each sample is the
mean call time of one batch, so the timer's own cost (tens of nanoseconds) does not swamp the
figure; slower calls are timed one by one. An operation and its reference are measured in
alternation, sample by sample, so both see the same machine load.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BATCH_NS: Final = 200_000
"""A batch of fast calls lasts about this long (0.2 ms)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """Median and p99 of one operation, in microseconds per call.

    ``batch`` calls were timed together for each of the ``samples`` samples (1: each call on
    its own, so the p99 is the p99 of single calls).
    """

    median_us: float
    p99_us: float
    samples: int
    batch: int

    def to_dict(self) -> dict[str, Any]:
        """The figure as JSON-friendly values."""
        return asdict(self)


def p99(values: Sequence[float]) -> float:
    """The 99th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(math.ceil(len(ordered) * 0.99) - 1, 0)]


def figure(values_ns: Sequence[float], batch: int) -> Figure:
    """Summarise samples given in nanoseconds per call."""
    return Figure(
        median_us=statistics.median(values_ns) / 1000,
        p99_us=p99(values_ns) / 1000,
        samples=len(values_ns),
        batch=batch,
    )


def _batch_ns(function: Callable[..., object], args: tuple[Any, ...], calls: int) -> float:
    """Mean nanoseconds per call over ``calls`` calls of ``function(*args)``."""
    counter = time.perf_counter_ns
    if not args:
        started = counter()
        for _ in range(calls):
            function()
        return (counter() - started) / calls
    if len(args) == 1:
        (argument,) = args
        started = counter()
        for _ in range(calls):
            function(argument)
        return (counter() - started) / calls
    started = counter()
    for _ in range(calls):
        function(*args)
    return (counter() - started) / calls


def _batch_size(function: Callable[..., object], args: tuple[Any, ...]) -> int:
    """How many calls make a batch of about :data:`BATCH_NS` (1 for slow calls)."""
    calls = 1
    while True:
        took = _batch_ns(function, args, calls) * calls
        if took >= BATCH_NS or calls >= 1 << 20:
            return max(1, round(calls * BATCH_NS / max(took, 1.0)))
        calls *= 4


def compare(  # noqa: PLR0913 - keyword-only sampling options
    ours: Callable[..., object],
    reference: Callable[..., object] | None,
    args: tuple[Any, ...] = (),
    *,
    max_samples: int,
    budget_s: float = 3600.0,
    single: bool = False,
    min_samples: int = 20,
) -> tuple[Figure, Figure | None]:
    """Time ``ours(*args)`` and ``reference(*args)`` in alternation.

    Both are warmed up first. Sampling stops at ``max_samples`` or once ``budget_s`` seconds
    are spent (but never before ``min_samples``). The same batch size is used for both, set
    by the faster of the two, so each sample compares like with like; ``single`` times every
    call on its own (for database work, where the p99 of single calls is the point).
    """
    functions = [ours] if reference is None else [ours, reference]
    for function in functions:
        for _ in range(3):
            function(*args)
    batch = 1 if single else min(_batch_size(function, args) for function in functions)
    for function in functions:  # warm-up at the measured batch size
        _batch_ns(function, args, batch)
    samples: list[list[float]] = [[] for _ in functions]
    deadline = time.perf_counter() + budget_s
    while len(samples[0]) < max_samples and (
        len(samples[0]) < min_samples or time.perf_counter() < deadline
    ):
        for function, values in zip(functions, samples, strict=True):
            values.append(_batch_ns(function, args, batch))
    mine = figure(samples[0], batch)
    theirs = figure(samples[1], batch) if reference is not None else None
    return mine, theirs


def one_by_one(
    ours: Callable[[], float], reference: Callable[[], float] | None, *, repeats: int
) -> tuple[Figure, Figure | None]:
    """Figures of callables that time themselves (nanoseconds), in alternation."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        mine.append(ours())
        if reference is not None:
            theirs.append(reference())
    return figure(mine, 1), (figure(theirs, 1) if reference is not None else None)


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of ``names`` (absent ones left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str:
    """The processor's model name, as Linux reports it (else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:  # noqa: PTH123 - one read
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was when the run started."""
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        "packages": package_versions(
            ["modelregistry", "sqlalchemy", "pydantic", "pydantic-core", "psycopg", "alembic"]
        ),
    }
