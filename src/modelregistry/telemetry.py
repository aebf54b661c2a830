"""What a registry does, counted and timed in process: operations, changes, cache refreshes.

Recording costs a few hundred nanoseconds and imports nothing beyond the standard library:
:mod:`modelregistry.metrics` turns a :class:`Telemetry` into Prometheus metrics when asked
(``registry.metrics``), so a process that never exposes metrics never loads
``prometheus_client``.

Every public method of :class:`~modelregistry.ModelRegistry` is an *operation*, recorded by
the :func:`operation` decorator once per call made by the application: a method another one
calls on its way (``select_model`` calls ``find_models``) is part of the outer operation, not
one more. ``get_model`` and ``get_model_or_raise`` finding the model in the cache are not
recorded: that is a dictionary lookup of about 0.2 µs, which timing would multiply; their
database reads (``as_of``, ``cache=False``) and the cache's misses are.
"""

from __future__ import annotations

import functools
import threading
import time
from bisect import bisect_left
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Concatenate, Final, Literal, ParamSpec, Protocol, TypeVar

from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from modelregistry.history import ChangeKind

P = ParamSpec("P")
T = TypeVar("T")

Trigger = Literal["notify", "poll", "write", "manual", "reload"]
"""What made the cache refresh: a NOTIFY, a poll (or the change feed's reconnection), this
process's own write, ``refresh()``, or a load of the whole catalog (at open, and when the
change log cannot be followed)."""

DURATION_BUCKETS: Final = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the duration histogram's buckets: from cached reads (10 µs) to
slow imports (10 s); a last bucket holds everything longer."""

OK: Final = "ok"
"""The outcome of an operation that returned."""
UNEXPECTED: Final = "error"
"""The outcome of an operation that raised something other than a ModelRegistryError."""

_INSIDE: ContextVar[bool] = ContextVar("modelregistry_operation", default=False)
_clock = time.perf_counter


@dataclass(frozen=True, slots=True)
class OperationStats:
    """One operation's record: calls by outcome, and the durations' histogram.

    Attributes:
        outcomes: Calls by outcome: ``ok``, an error code (``E4001``...) or ``error``.
        buckets: Calls per bucket of :data:`DURATION_BUCKETS`, then the calls longer than the
            last bound (not cumulative).
        seconds: The durations' sum.
    """

    outcomes: dict[str, int]
    buckets: tuple[int, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class TelemetryRecord:
    """A consistent copy of a :class:`Telemetry`'s counts, for one scrape."""

    operations: dict[str, OperationStats]
    changes: dict[str, int]
    refreshes: dict[str, int]


class _Operation:
    # Calls that did not return are counted by outcome; the others are the rest of the calls.
    __slots__ = ("buckets", "failures", "seconds")

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}
        self.buckets = [0] * (len(DURATION_BUCKETS) + 1)
        self.seconds = 0.0

    def stats(self) -> OperationStats:
        outcomes = dict(self.failures)
        returned = sum(self.buckets) - sum(outcomes.values())
        if returned:
            outcomes[OK] = returned
        return OperationStats(outcomes, tuple(self.buckets), self.seconds)


class Telemetry:
    """Counters of one registry, safe to update from any thread."""

    def __init__(self) -> None:
        """Start with every count at zero."""
        self._lock = threading.Lock()
        self._operations: dict[str, _Operation] = {}
        self._changes: dict[str, int] = {}
        self._refreshes: dict[str, int] = {}

    def restart(self) -> None:
        """Start again from zero with a new lock (in a forked child: a process of its own)."""
        self._lock = threading.Lock()
        self._operations = {}
        self._changes = {}
        self._refreshes = {}

    def finished(self, operation: str, outcome: str, seconds: float) -> None:
        """Record one call of ``operation`` that took ``seconds`` and ended with ``outcome``."""
        bucket = bisect_left(DURATION_BUCKETS, seconds)  # the first bound >= seconds
        with self._lock:
            stats = self._operations.get(operation)
            if stats is None:
                stats = self._operations[operation] = _Operation()
            stats.buckets[bucket] += 1
            stats.seconds += seconds
            if outcome is not OK:
                stats.failures[outcome] = stats.failures.get(outcome, 0) + 1

    def changed(self, kinds: Iterable[ChangeKind]) -> None:
        """Record the revisions a write committed, by kind."""
        with self._lock:
            for kind in kinds:
                self._changes[kind.value] = self._changes.get(kind.value, 0) + 1

    def refreshed(self, trigger: Trigger) -> None:
        """Record a successful refresh of the cache, by what asked for it."""
        with self._lock:
            self._refreshes[trigger] = self._refreshes.get(trigger, 0) + 1

    def record(self) -> TelemetryRecord:
        """Copy every count at once."""
        with self._lock:
            return TelemetryRecord(
                operations={name: stats.stats() for name, stats in self._operations.items()},
                changes=dict(self._changes),
                refreshes=dict(self._refreshes),
            )


class Instrumented(Protocol):
    """An object whose operations are recorded: a registry."""

    _telemetry: Telemetry


S = TypeVar("S", bound=Instrumented)


def operation(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Record each call of the public method ``method``, under its name.

    Only the outermost recorded call of a thread (or task) counts; the outcome is ``ok``, the
    error code of a :class:`~modelregistry.ModelRegistryError`, or ``error``.
    """
    return recorded_as(method.__name__)(method)


def recorded_as(
    name: str,
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Like :func:`operation`, under ``name`` (a private part of a public method)."""

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(method)
        def recorded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if _INSIDE.get():
                return method(self, *args, **kwargs)
            token = _INSIDE.set(True)
            started = _clock()
            try:
                result = method(self, *args, **kwargs)
            except BaseException as exc:
                _INSIDE.reset(token)
                outcome = exc.code if isinstance(exc, ModelRegistryError) else UNEXPECTED
                self._telemetry.finished(name, outcome, _clock() - started)
                raise
            _INSIDE.reset(token)
            self._telemetry.finished(name, OK, _clock() - started)
            return result

        return recorded

    return decorate
