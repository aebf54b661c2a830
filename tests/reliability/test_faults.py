"""Faults: the database killed under load, a process killed in the middle of an import.

The database is killed on a throwaway PostgreSQL server of the test's own (never the shared
one): ``pg_ctl stop -m immediate``, which ends every backend at once without a checkpoint,
as a crash does; the restart recovers from the WAL. Processes are killed with SIGKILL.
Processes opening one empty database at once: ``tests/integration/test_opening.py``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cases import config, database_dump
from modelregistry import ModelConfig, ModelRegistry, ModelRegistryError
from modelregistry.domain.documents import dump_catalog
from throwaway_postgres import ThrowawayPostgres, throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.queues import Queue
    from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
    from multiprocessing.synchronize import Event
    from pathlib import Path

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

DEADLINE = 90.0
"""Generous bound on each phase: only a broken system takes this long."""
WRITERS = 3
READERS = 2
BATCH = 5
"""Models per import in the writers' stream: all or none of them may exist afterwards."""
ACKS_PER_PHASE = 25
"""Writes each writer gets acknowledged before the kill, and again after the restart."""
STALE_READS = 20
"""Reads each reader answers from its stale cache while the database is down."""
FAILURES = 3
"""Refused writes each writer sees while the database is down."""
MIN_OUTAGE = 2.0
"""Seconds the database stays down at least (a lower bound, not a deadline)."""


def wait_for(predicate: Callable[[], bool], what: str, deadline: float = DEADLINE) -> float:
    """Poll until ``predicate()``; return the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


# -- the database killed during a stream of writes and reads ---------------------------------


@dataclass
class Streams:
    """What the test shares with its writer and reader processes."""

    url: str
    stop_writers: Event
    stop_readers: Event
    acked: SynchronizedArray[int]  # per writer
    failed: SynchronizedArray[int]  # per writer
    stale_reads: SynchronizedArray[int]  # per reader: reads answered by a stale cache
    target: Synchronized[int]  # the catalog revision readers must reach at the end
    results: Queue[Any]


class WriterOutcome(NamedTuple):
    worker: int
    done: list[list[str]]  # acknowledged writes, by the ids they wrote
    refused: list[list[str]]  # writes that raised: unacknowledged
    errors: list[tuple[str, bool, str]]  # (code, retryable, message): the first 20, any odd one
    unexpected: list[str]


class ReaderOutcome(NamedTuple):
    reader: int
    reads: int
    errors: list[str]
    torn: list[str]  # imports seen partly applied (must stay empty)
    held: list[tuple[str, int | None]]  # the cache's catalog at the end: (id, version)
    live_again: float  # wall-clock time the cache was first live again after being stale
    state: str


def _ids(worker: int, number: int) -> list[str]:
    """Every third write is an import of BATCH models, the others register one."""
    if number % 3 == 0:
        return [f"w{worker}-b{number}-{k}" for k in range(BATCH)]
    return [f"w{worker}-s{number}"]


def _model(model_id: str, worker: int) -> dict[str, Any]:
    return config(
        model_id=model_id,
        provider=f"writer-{worker}",
        context_window=len(model_id) * 1000 + worker,
        capabilities={"supports_vision": worker % 2 == 0, "supports_reasoning": True},
    )


def _apply(registry: ModelRegistry, worker: int, ids: list[str]) -> None:
    if len(ids) == 1:
        registry.register_model(_model(ids[0], worker))
    else:
        registry.import_catalog({"models": [_model(model_id, worker) for model_id in ids]})


def _write_stream(streams: Streams, worker: int) -> None:
    """Write single models and imports of BATCH models until told to stop; report each."""
    outcome = WriterOutcome(worker, [], [], [], [])
    try:
        with ModelRegistry(streams.url, poll_interval=0.05) as registry:
            number = 0
            while not streams.stop_writers.is_set():
                number += 1
                ids = _ids(worker, number)
                try:
                    _apply(registry, worker, ids)
                except ModelRegistryError as exc:
                    outcome.refused.append(ids)
                    streams.failed[worker] += 1
                    if len(outcome.errors) < 20 or not exc.retryable:
                        outcome.errors.append((exc.code, exc.retryable, str(exc)))
                    time.sleep(0.05)
                else:
                    outcome.done.append(ids)
                    streams.acked[worker] += 1
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        outcome.unexpected.append(repr(exc))
    streams.results.put(outcome)


def _torn_imports(models: list[ModelConfig]) -> list[str]:
    batches: dict[str, int] = {}
    for model in models:
        if "-b" in model.model_id:
            batch = model.model_id.rsplit("-", 1)[0]
            batches[batch] = batches.get(batch, 0) + 1
    return [f"{batch}: {n} of {BATCH}" for batch, n in batches.items() if n != BATCH]


def _read_stream(streams: Streams, reader: int) -> None:
    """Read the whole catalog over and over from the cache; at the end, report what it holds.

    Every observation is one snapshot: each import of the writers must be all there or
    absent from it.
    """
    reads, errors, torn = 0, [], []
    was_stale, live_again = False, 0.0
    try:
        with ModelRegistry(streams.url, poll_interval=0.05) as registry:
            while not streams.stop_readers.is_set():
                try:
                    models = registry.list_models()
                    state = registry.get_stats()["cache"]["state"]
                    if registry.get_model("llama3.1:8b") is None:
                        errors.append("a seeded model went missing")
                except Exception as exc:  # noqa: BLE001 - reported, must not happen
                    errors.append(repr(exc))
                    continue
                reads += 1
                if state == "stale":
                    streams.stale_reads[reader] += 1
                    was_stale = True
                elif was_stale and not live_again:
                    live_again = time.time()
                torn.extend(_torn_imports(models))
                time.sleep(0.005)
            started = time.monotonic()
            while registry.get_stats()["cache"]["revision"] < streams.target.value:
                if time.monotonic() - started > DEADLINE:
                    errors.append("the cache never caught up after the restart")
                    break
                time.sleep(0.02)
            held = [(m.model_id, m.version) for m in registry.list_models()]
            state = registry.get_stats()["cache"]["state"]
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        streams.results.put(ReaderOutcome(reader, reads, [repr(exc)], torn, [], 0.0, "failed"))
        return
    streams.results.put(ReaderOutcome(reader, reads, errors, torn, held, live_again, state))


def _scalar(url: str, query: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


def _kill_under_load(server: ThrowawayPostgres) -> tuple[Streams, list[Any], dict[str, float]]:
    """Run the streams; kill the database once writes flow, restart it, stop the streams."""
    context = multiprocessing.get_context("spawn")
    streams = Streams(
        url=server.url,
        stop_writers=context.Event(),
        stop_readers=context.Event(),
        acked=context.Array("i", WRITERS),
        failed=context.Array("i", WRITERS),
        stale_reads=context.Array("i", READERS),
        target=context.Value("q", 0),
        results=context.Queue(),
    )
    processes = [context.Process(target=_write_stream, args=(streams, n)) for n in range(WRITERS)]
    processes += [context.Process(target=_read_stream, args=(streams, n)) for n in range(READERS)]
    for process in processes:
        process.start()
    try:
        wait_for(lambda: min(streams.acked[:]) >= ACKS_PER_PHASE, "writes before the kill")
        killed_at = time.monotonic()
        server.kill()
        wait_for(lambda: min(streams.failed[:]) >= FAILURES, "every writer to see the outage")
        wait_for(lambda: min(streams.stale_reads[:]) >= STALE_READS, "reads from stale caches")
        wait_for(lambda: time.monotonic() - killed_at >= MIN_OUTAGE, "the outage to last")
        at_restart = streams.acked[:]
        restarted_at = time.time()
        outage = time.monotonic() - killed_at
        server.start()
        recovery = wait_for(
            lambda: all(
                now - then >= ACKS_PER_PHASE
                for now, then in zip(streams.acked[:], at_restart, strict=True)
            ),
            "writes after the restart",
        )
        streams.stop_writers.set()
        outcomes = [streams.results.get(timeout=DEADLINE) for _ in range(WRITERS)]
        streams.target.value = _scalar(server.url, "SELECT max(id) FROM model_revisions")
        streams.stop_readers.set()
        outcomes += [streams.results.get(timeout=DEADLINE) for _ in range(READERS)]
    finally:
        streams.stop_writers.set()
        streams.stop_readers.set()
        for process in processes:
            process.join(timeout=DEADLINE)
            if process.is_alive():
                process.kill()
    return streams, outcomes, {"outage": outage, "recovery": recovery, "restart": restarted_at}


def _check_writers(writers: list[WriterOutcome]) -> None:
    for writer in writers:
        assert writer.unexpected == [], f"writer {writer.worker}: {writer.unexpected}"
        # Every refusal was the clear, retryable one.
        kinds = {(code, retryable) for code, retryable, _ in writer.errors}
        assert kinds == {("E4020", True)}, f"writer {writer.worker}: {writer.errors}"
        assert all("database unavailable" in message for _, _, message in writer.errors)


def _check_catalog(url: str, writers: list[WriterOutcome]) -> tuple[dict[str, ModelConfig], int]:
    """Acknowledged writes all there, refused ones whole or absent; return the catalog."""
    with ModelRegistry(url, cache=False) as registry:
        truth = {model.model_id: model for model in registry.list_models()}
        # Each model's row, capabilities included, is exactly its last recorded revision.
        assert registry.list_models(as_of=datetime.now(UTC)) == list(truth.values())
    assert _scalar(url, "SELECT count(*) FROM model_revisions") == len(truth)
    acknowledged = [ids for writer in writers for ids in writer.done]
    for ids in acknowledged:
        for model_id in ids:
            worker = int(model_id[1 : model_id.index("-")])
            assert truth.get(model_id) == ModelConfig(**_model(model_id, worker)), model_id
    applied_anyway = 0
    for ids in (ids for writer in writers for ids in writer.refused):
        present = [model_id in truth for model_id in ids]
        assert all(present) or not any(present), f"half-applied: {ids} {present}"
        applied_anyway += all(present)
    known = {"llama3.1:8b", "llama3.2:3b", "llava-llama3:latest"}
    known |= {
        model_id for writer in writers for ids in writer.done + writer.refused for model_id in ids
    }
    assert truth.keys() <= known
    return truth, applied_anyway


@pytest.mark.stress
def test_killing_the_database_loses_no_acknowledged_write_and_caches_resynchronise() -> None:
    with throwaway_postgres() as server:
        if server is None:
            pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
        ModelRegistry(server.url).close()  # migrated and seeded before the streams start
        streams, outcomes, took = _kill_under_load(server)
        writers = sorted(o for o in outcomes if isinstance(o, WriterOutcome))
        readers = sorted(o for o in outcomes if isinstance(o, ReaderOutcome))
        _check_writers(writers)
        truth, applied_anyway = _check_catalog(server.url, writers)

    final = sorted((model_id, model.version) for model_id, model in truth.items())
    for reader in readers:
        assert reader.errors == [], f"reader {reader.reader}: {reader.errors[:5]}"
        assert reader.torn == [], f"reader {reader.reader} saw an import half applied"
        assert (reader.held, reader.state) == (final, "live"), f"reader {reader.reader}"
        assert reader.live_again > took["restart"]
    acknowledged = sum(len(writer.done) for writer in writers)
    refused = sum(len(writer.refused) for writer in writers)
    print(  # noqa: T201 - the figures docs/reliability.md quotes
        f"\nkill: {acknowledged} writes acknowledged, all present; {refused} refused with "
        f"E4020 ({applied_anyway} had committed before the connection died), none half-applied;"
        f" outage {took['outage']:.1f} s; {took['recovery']:.1f} s from restart to "
        f"{ACKS_PER_PHASE} more writes per writer; reads {[r.reads for r in readers]}, of "
        f"which from a stale cache {streams.stale_reads[:]}; caches live again "
        f"{[round(r.live_again - took['restart'], 2) for r in readers]} s after the restart"
    )


# -- a process killed in the middle of an import ---------------------------------------------


def _import_and_hang(url: str, path: str, halfway: Event, results: Queue[str]) -> None:
    """Import ``path``; once half of it is written (uncommitted), say so and hang."""
    try:
        with ModelRegistry(url, cache=False) as registry:

            def progress(done: int, total: int) -> None:
                if done * 2 >= total and done < total:
                    halfway.set()
                    time.sleep(3600)  # killed here, inside the import's transaction

            registry.import_catalog(path, prune=True, progress=progress)
        results.put("the import finished: it should have been killed")
    except Exception as exc:  # noqa: BLE001 - the parent reports whatever happened
        results.put(f"error {exc!r}")


def _sessions_of(admin_url: str, application: str) -> int:
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a")
            return int(connection.execute(query, {"a": application}).scalar_one())
    finally:
        engine.dispose()


def test_a_process_killed_in_the_middle_of_an_import_leaves_the_catalog_as_before(
    database_url: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    application = f"mr-crash-{uuid.uuid4().hex[:8]}"
    url = database_url
    if backend == "postgresql":
        url = (
            make_url(database_url)
            .update_query_dict({"application_name": application})
            .render_as_string(hide_password=False)
        )
    with ModelRegistry(database_url, poll_interval=0.05) as reader:
        reader.register_model(config(context_window=1000))
        reader.update_model_status("llama3.2:3b", "deprecated")
        before = database_dump(database_url, sequences=False)
        listed = reader.list_models()
        models = [
            ModelConfig(**config(model_id=f"imported-{n}", provider="bulk", context_window=n + 1))
            for n in range(2000)
        ] + [ModelConfig(**config(context_window=2000))]
        path = tmp_path / "big.json"
        path.write_text(dump_catalog(models, "json"))

        context = multiprocessing.get_context("spawn")
        halfway = context.Event()
        results: Queue[str] = context.Queue()
        child = context.Process(target=_import_and_hang, args=(url, str(path), halfway, results))
        child.start()
        try:
            assert halfway.wait(DEADLINE), "the import never got halfway"
            child.kill()
            child.join(timeout=DEADLINE)
        finally:
            if child.is_alive():
                child.kill()
        assert child.exitcode == -9
        if backend == "postgresql":
            # The server saw its client vanish, rolled back, and ended the session.
            admin = request.getfixturevalue("postgres_url")
            wait_for(lambda: _sessions_of(admin, application) == 0, "the dead session to end")

        assert database_dump(database_url, sequences=False) == before
        if backend == "sqlite":
            with contextlib.closing(sqlite3.connect(str(make_url(url).database))) as db:
                assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # Readers never saw any of it; the lock is free: the next writer goes straight on.
        assert reader.list_models() == listed
        reader.refresh()
        assert reader.list_models() == listed
        assert reader.get_stats()["cache"]["state"] == "live"
        result = reader.import_catalog(path, prune=True)
        assert (len(result.added), len(result.changed), len(result.removed)) == (2000, 1, 3)
        assert reader.get_stats()["total_models"] == 2001
