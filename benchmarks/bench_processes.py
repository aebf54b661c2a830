"""The benchmarks that need other processes: propagation of a change, and cold start.

Used by benchmarks/run.py.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import psycopg
from bench_data import Database, database
from bench_timing import one_by_one

from modelregistry import CatalogEvent, ModelRegistry, ModelStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench_timing import Figure

COLD_START: Final = (
    "import modelregistry; r = modelregistry.ModelRegistry(); r.get_model('llama3.1:8b'); r.close()"
)
"""Imports, opens the embedded default catalog and reads one model."""
COLD_REFERENCE: Final = "import sqlalchemy, pydantic"
CLI_REFERENCE: Final = "pass"
"""``python -c pass``: the interpreter's own start-up, next to the CLI's."""
YAML_IMPORT_SIZE: Final = 5000
SQLITE_POLL: Final = 0.05
"""The SQLite subscriber's poll interval (seconds): SQLite has no notifications."""


def _subscriber(url: str, poll: float, ready: Any, arrivals: Any, stop: Any) -> None:
    """In another process: a registry whose subscriber reports when each change arrives."""
    with ModelRegistry(url, poll_interval=poll) as registry:

        def on_change(event: CatalogEvent) -> None:
            arrivals.put((time.perf_counter_ns(), event.version))

        registry.subscribe(on_change)
        ready.put(len(registry.get_stats()["providers"]))
        stop.wait(3600)


def _raw_listener(url: str, ready: Any, arrivals: Any, stop: Any) -> None:
    """In another process: a bare psycopg LISTEN that reports when each NOTIFY arrives."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("LISTEN mr_bench_reference")
        ready.put(0)
        while not stop.is_set():
            for note in connection.notifies(timeout=0.5):
                arrivals.put((time.perf_counter_ns(), int(note.payload)))


def _latencies(change: Callable[[int], int], count: int, arrivals: Any) -> list[float]:
    """Nanoseconds from each change's start to its arrival in the other process.

    Changes come at random moments (0-10 ms after the previous one arrived). Both processes
    read ``time.perf_counter_ns`` (CLOCK_MONOTONIC on Linux: one clock for the machine).
    """
    rng = random.Random(5)  # noqa: S311 - jitter, not secrets
    latencies = []
    for number in range(count):
        time.sleep(rng.uniform(0, 0.01))
        started = time.perf_counter_ns()
        expected = change(number)
        arrived, seen = arrivals.get(timeout=60)
        while seen != expected:
            arrived, seen = arrivals.get(timeout=60)
        latencies.append(float(arrived - started))
    return latencies


def propagation_latencies(
    db: Database, size: int, changes: int
) -> tuple[list[float], list[float] | None]:
    """Nanoseconds from a status change in this process to its arrival in another's cache.

    With the same for a bare NOTIFY -> LISTEN on PostgreSQL (None on SQLite, which polls).
    """
    context = multiprocessing.get_context("spawn")
    ready, arrivals, stop = context.Queue(), context.Queue(), context.Event()
    poll = SQLITE_POLL if db.backend == "sqlite" else 1.0
    process = context.Process(target=_subscriber, args=(db.url, poll, ready, arrivals, stop))
    process.start()
    try:
        ready.get(timeout=600)
        with ModelRegistry(db.url, cache=False) as writer:
            model = writer.list_models()[size // 2]
            statuses = [ModelStatus.MAINTENANCE, model.status]

            def change(number: int) -> int:
                changed = writer.update_model_status(model.model_id, statuses[number % 2])
                return changed.version or 0

            ours = _latencies(change, changes, arrivals)
    finally:
        stop.set()
        process.join(timeout=60)
    theirs = _raw_propagation(db, changes) if db.backend == "postgresql" else None
    return ours, theirs


def _raw_propagation(db: Database, changes: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    ready, arrivals, stop = context.Queue(), context.Queue(), context.Event()
    process = context.Process(target=_raw_listener, args=(db.raw, ready, arrivals, stop))
    process.start()
    try:
        ready.get(timeout=120)
        with psycopg.connect(db.raw, autocommit=True) as connection:

            def change(number: int) -> int:
                connection.execute(f"NOTIFY mr_bench_reference, '{number}'")
                return number

            return _latencies(change, changes, arrivals)
    finally:
        stop.set()
        process.join(timeout=60)


# -- cold start --------------------------------------------------------------------------


def cold_start_figures(
    backend: str, postgres_url: str, directory: Path, repeats: int
) -> tuple[Figure, Figure | None]:
    """:data:`COLD_START` and :data:`COLD_REFERENCE` as new processes, alternating.

    SQLite: the embedded default catalog (no URL; a private data directory); PostgreSQL: a
    private schema. Bytecode is written and both commands run twice before timing, as an
    installed package would have it.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "MODELREGISTRY_DATABASE_URL"}
    }
    environment["XDG_DATA_HOME"] = str(directory / f"xdg-{backend}")
    with database(backend, postgres_url, directory) as db:
        if backend == "postgresql":
            environment["MODELREGISTRY_DATABASE_URL"] = db.url

        def run(code: str) -> float:
            started = time.perf_counter_ns()
            subprocess.run(  # noqa: S603 - our own interpreter and code
                [sys.executable, "-c", code], check=True, env=environment
            )
            return float(time.perf_counter_ns() - started)

        for _ in range(2):
            run(COLD_START)
            run(COLD_REFERENCE)
        return one_by_one(lambda: run(COLD_START), lambda: run(COLD_REFERENCE), repeats=repeats)


def _clean_environment(directory: Path, name: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONDONTWRITEBYTECODE", "MODELREGISTRY_DATABASE_URL"}
    }
    environment["XDG_DATA_HOME"] = str(directory / f"xdg-{name}")
    return environment


def _timed_run(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter_ns()
    subprocess.run(command, check=True, env=environment, stdout=subprocess.DEVNULL)  # noqa: S603 - our own interpreter and script
    return float(time.perf_counter_ns() - started)


def cli_script() -> str:
    """The ``modelregistry`` console script beside this interpreter (or ``python -m``)."""
    script = Path(sys.executable).with_name("modelregistry")
    return str(script) if script.exists() else ""


def cli_start_figures(argument: str, directory: Path, repeats: int) -> tuple[Figure, Figure | None]:
    """``modelregistry ARGUMENT`` (``--version``, ``--help``) next to ``python -c pass``."""
    environment = _clean_environment(directory, "cli")
    script = cli_script()
    command = [script, argument] if script else [sys.executable, "-m", "modelregistry", argument]
    reference = [sys.executable, "-c", CLI_REFERENCE]
    for _ in range(2):
        _timed_run(command, environment)
        _timed_run(reference, environment)
    return one_by_one(
        lambda: _timed_run(command, environment),
        lambda: _timed_run(reference, environment),
        repeats=repeats,
    )


def yaml_import_figures(
    files: dict[str, Path], directory: Path, repeats: int
) -> tuple[Figure, Figure | None]:
    """``modelregistry import`` of the YAML file next to the same catalog as JSON (SQLite).

    Each run imports into a new SQLite file (migrated on opening, as a first import is).
    """
    environment = _clean_environment(directory, "import")
    script = cli_script()
    runs = iter(range(10**9))

    def run(kind: str) -> float:
        target = directory / f"import-{kind}-{next(runs)}.db"
        base = [script] if script else [sys.executable, "-m", "modelregistry"]
        command = [*base, "--db", f"sqlite:///{target}", "import", str(files[kind])]
        try:
            return _timed_run(command, environment)
        finally:
            target.unlink(missing_ok=True)

    run("yaml")
    run("json")
    return one_by_one(lambda: run("yaml"), lambda: run("json"), repeats=repeats)
