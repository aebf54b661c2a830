"""What a registry does, counted and timed in process: operations, changes, cache refreshes.

Recording costs a few hundred nanoseconds and imports nothing beyond the standard library:
:mod:`modelregistry.metrics.prometheus` turns a :class:`Telemetry` into Prometheus metrics when
asked (``registry.metrics``), so a process that never exposes metrics never loads
``prometheus_client``.

Every public method of :class:`~modelregistry.ModelRegistry` is an *operation*, recorded at
each call by :meth:`Telemetry.run` (the :func:`recorded` decorator). A re-entrancy guard makes
a call the application makes count once, under its own name: a public method may call another
(``select_model`` calls ``find_models``), and only the outer one is recorded. The guard is a
context variable, so it follows each thread, each asyncio task and the greenlets that
SQLAlchemy's asyncio bridge runs them in. ``get_model`` answered by the cache, and
``get_model_or_raise`` finding the model there, are not recorded: that is a dictionary lookup
of about 0.1 µs, which timing would multiply; their database reads (``as_of``,
``cache=False``) are, and so is ``get_model_or_raise`` not finding the model.

Each thread records into a shard of its own, without a lock (a scrape adds the shards up), so
threads never wait on one another to record.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from bisect import bisect_left
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Concatenate, Final, Literal, ParamSpec, Protocol, TypeVar

from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from modelregistry.domain.history import ChangeKind

P = ParamSpec("P")
T = TypeVar("T")

Trigger = Literal["notify", "poll", "write", "manual", "reload", "stream"]
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

_clock = time.perf_counter

_RECORDING: ContextVar[Telemetry | None] = ContextVar("modelregistry_recording", default=None)
"""The telemetry whose operation is running in this context (the re-entrancy guard)."""


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

    def add(self, other: _Operation) -> None:
        buckets = list(other.buckets)
        failures = dict(other.failures)
        self.buckets = [mine + theirs for mine, theirs in zip(self.buckets, buckets, strict=True)]
        self.seconds += other.seconds
        for outcome, count in failures.items():
            self.failures[outcome] = self.failures.get(outcome, 0) + count

    def stats(self) -> OperationStats:
        outcomes = dict(self.failures)
        returned = sum(self.buckets) - sum(outcomes.values())
        if returned:
            outcomes[OK] = returned
        return OperationStats(outcomes, tuple(self.buckets), self.seconds)


class _Shard:
    """One thread's operations (only that thread writes them) and whether it still runs."""

    __slots__ = ("operations", "thread")

    def __init__(self, thread: threading.Thread) -> None:
        self.operations: dict[str, _Operation] = {}
        self.thread = weakref.ref(thread)

    def alive(self) -> bool:
        thread = self.thread()
        return thread is not None and thread.is_alive()


class Telemetry:
    """Counters of one registry, safe to update from any thread."""

    def __init__(self) -> None:
        """Start with every count at zero."""
        self.restart()

    def restart(self) -> None:
        """Start again from zero, with a new lock (also in a forked child: a new process)."""
        self._lock = threading.Lock()
        self._local = threading.local()
        self._shards: list[_Shard] = []
        self._ended: dict[str, _Operation] = {}  # the shards of threads that have ended
        self._changes: dict[str, int] = {}
        self._refreshes: dict[str, int] = {}

    def run(self, name: str, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``function`` as the operation ``name``: timed and counted by outcome.

        Inside another operation of this telemetry (a public method calling another), the
        call is part of the outer one and is not recorded again.
        """
        if _RECORDING.get() is self:
            return function(*args, **kwargs)
        token = _RECORDING.set(self)
        started = _clock()
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            outcome = exc.code if isinstance(exc, ModelRegistryError) else UNEXPECTED
            self.finished(name, outcome, _clock() - started)
            raise
        finally:
            _RECORDING.reset(token)
        self.finished(name, OK, _clock() - started)
        return result

    def finished(self, operation: str, outcome: str, seconds: float) -> None:
        """Record one call of ``operation`` that took ``seconds`` and ended with ``outcome``."""
        try:
            operations: dict[str, _Operation] = self._local.operations
        except AttributeError:
            operations = self._new_shard()
        stats = operations.get(operation)
        if stats is None:
            stats = operations[operation] = _Operation()
        stats.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1  # the first bound >= it
        stats.seconds += seconds
        if outcome is not OK:
            stats.failures[outcome] = stats.failures.get(outcome, 0) + 1

    def _new_shard(self) -> dict[str, _Operation]:
        shard = _Shard(threading.current_thread())
        with self._lock:
            self._retire_ended()
            self._shards.append(shard)
        self._local.operations = shard.operations
        return shard.operations

    def _retire_ended(self) -> None:
        """Fold the shards of ended threads into one (under the lock).

        A thread per request must not leave a shard per request behind.
        """
        running = []
        for shard in self._shards:
            if shard.alive():
                running.append(shard)
            else:
                for name, stats in shard.operations.items():
                    self._ended.setdefault(name, _Operation()).add(stats)
        self._shards = running

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
        """Add every count up, at once.

        A shard may take a call more while it is read (its thread does not wait): the record
        is as of some instant during the reading, as a scrape is anyway.
        """
        with self._lock:
            self._retire_ended()
            totals: dict[str, _Operation] = {}
            for source in (self._ended, *(shard.operations for shard in self._shards)):
                # dict() and list() copy at once under the GIL, while the owner writes on.
                for name, stats in dict(source).items():
                    totals.setdefault(name, _Operation()).add(stats)
            return TelemetryRecord(
                operations={name: totals[name].stats() for name in sorted(totals)},
                changes=dict(self._changes),
                refreshes=dict(self._refreshes),
            )


class Instrumented(Protocol):
    """An object whose operations are recorded: a registry."""

    _telemetry: Telemetry


S = TypeVar("S", bound=Instrumented)


def recorded(
    name: str,
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Record each call of the decorated method as the operation ``name`` (:meth:`Telemetry.run`).

    The outcome is ``ok``, the error code of a :class:`~modelregistry.ModelRegistryError`, or
    ``error``.
    """

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(method)
        def recording(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return self._telemetry.run(name, method, self, *args, **kwargs)

        return recording

    return decorate
