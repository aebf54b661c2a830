"""Many readers, few connections: the JetStream change feed beside direct LISTEN, in one run.

    python benchmarks/jetstream.py [--readers 10,50,100] [--changes 200]
        [--fault-changes 10000] [--fault-readers 10] [--skip-fault]

Every figure comes from private servers started for the run: a throwaway PostgreSQL
(``initdb``, a free port, ``max_connections`` high enough for LISTEN readers) and a throwaway
nats-server with JetStream. Reader processes are forked, started in batches of 10 and waited on
until each has loaded its snapshot and subscribed (LISTEN or the stream).

1. Scale: for each reader count, the same readers on the JetStream feed and on direct LISTEN;
   one writer changes a model every 20-50 ms. Reported: PostgreSQL client connections while
   idle (``pg_stat_activity``), p50/p99 from a write returning to *every* reader having applied
   it, and server CPU (PostgreSQL's processes, nats-server) per change.
2. Faults, on the feed: NATS restarted mid-stream, a reader SIGKILLed and started again, a
   writer SIGKILLed between its commit and its publish (the relay fills the hole), over
   ``--fault-changes`` changes: revisions missed by any reader (must be 0) and the worst
   staleness (a change's commit to the last reader applying it).

Figures only, printed: nothing fails on a slow one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from modelregistry import ModelRegistry
from modelregistry.cache.publisher import DIE_BEFORE_PUBLISH_VARIABLE
from throwaway_nats import throwaway_nats
from throwaway_postgres import throwaway_postgres

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from modelregistry import CatalogEvent

MODELS = ("llama3.2:3b", "llama3.1:8b", "llava-llama3:latest")
CLK = os.sysconf("SC_CLK_TCK")
FORK = multiprocessing.get_context("fork")


# -- readers ------------------------------------------------------------------------------


STOP_SIGNAL = signal.SIGUSR2
"""Tells a reader to report and exit. Not a shared ``multiprocessing.Event``: its ``set()``
waits for every process sleeping on it to wake, and a SIGKILLed reader never does (the fault
run's ``finish()`` hung there)."""


def reader_main(url: str, feed: str, ready: Any, results: Any, go: Any = None) -> None:
    """One reader process: apply changes, note when each revision arrived, report at the end.

    With ``go``: forked early, it waits for it before opening (a reader forked while the
    writer's registry is open would copy its threads' locks). Stops on :data:`STOP_SIGNAL`.
    """
    stop = threading.Event()
    signal.signal(STOP_SIGNAL, lambda *_: stop.set())
    if go is not None:
        go.wait()
    applied: dict[int, float] = {}
    registry = ModelRegistry(url, feed=feed, poll_interval=0.5)

    def note(event: CatalogEvent) -> None:
        applied.setdefault(event.revision, time.time())

    registry.subscribe(note)
    deadline = time.monotonic() + 120
    while feed and registry.get_stats()["cache"]["feed"]["transport"] != "jetstream":
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    start = registry.get_stats()["cache"]["revision"]
    ready.put(os.getpid())
    while not stop.wait(0.2):
        pass
    state = registry.get_stats()["cache"]
    results.put((os.getpid(), start, applied, state.get("feed", {})))
    registry.close()


@dataclass
class Readers:
    processes: list[BaseProcess]
    ready: Any
    results: Any

    @classmethod
    def start(cls, count: int, url: str, feed: str) -> Readers:
        ready, results = FORK.Queue(), FORK.Queue()
        readers = cls([], ready, results)
        for first in range(0, count, 10):  # 2 cores: in batches, each waited on
            batch = [readers.spawn(url, feed) for _ in range(min(10, count - first))]
            for _ in batch:
                ready.get(timeout=300)
        return readers

    def spawn(self, url: str, feed: str, go: Any = None) -> BaseProcess:
        process = FORK.Process(
            target=reader_main,
            args=(url, feed, self.ready, self.results, go),
            daemon=True,
        )
        process.start()
        self.processes.append(process)
        return process

    def finish(self) -> dict[int, tuple[int, dict[int, float], dict[str, Any]]]:
        alive = [p for p in self.processes if p.exitcode is None and p.is_alive()]
        for process in alive:
            os.kill(process.pid or 0, STOP_SIGNAL)
        found = {}
        for _ in alive:
            try:
                pid, start, applied, feed = self.results.get(timeout=120)
            except queue.Empty:
                print("a reader did not report within 120 s", flush=True)
                break
            found[pid] = (start, applied, feed)
        for process in self.processes:
            process.join(timeout=60)
        return found


# -- measuring ----------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK


def postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the server: the postmaster, its live backends and the ones that ended.

    A backend that exits (a reader's connection let go) moves from its own counters into
    the postmaster's ``cutime``/``cstime``, so the sum only grows.
    """
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    ended = (int(fields[13]) + int(fields[14])) / CLK
    children = subprocess.run(  # noqa: S603 - our own server's pid
        ["pgrep", "-P", str(postmaster)],  # noqa: S607 - procps, found on PATH
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return ended + cpu_seconds([postmaster, *map(int, children)])


def client_connections(admin: sa.Engine) -> int:
    with admin.connect() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        )


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


class Writes:
    """The writer's changes: each one's ``(model id, version)`` and the instant it returned.

    Every write flips a model between ``maintenance`` and ``active`` from the status the
    writer's cache shows, so each one makes exactly one revision (a write that sets the status
    a model already has makes none: the old harness's first two writes of every run after the
    first did that, as the previous run had left those models there, and were counted as
    changes). After the run, :func:`revisions_of` reads every revision the run made from the
    database and pairs them with these by ``(model id, version)``: revisions no write of ours
    returned (the killed writer's) are checked too, from their commit time.

    Each write also notes the writer cache's revision when the call returned, to check that a
    writer's cache holds its own write by then (``own_behind``, must be 0).
    """

    def __init__(self, writer: ModelRegistry) -> None:
        cache = writer._parts.cache  # noqa: SLF001 - the revision a write just made
        if cache is None:
            sys.exit("the writer needs its cache")
        self._cache = cache
        self._writer = writer
        self.returned: dict[tuple[str, int], float] = {}
        self.cache_revision: dict[tuple[str, int], int] = {}
        self.unchanged = 0
        """Writes that made no revision (must be 0: the harness's own check)."""

    def change(self, number: int) -> None:
        model_id = MODELS[number % len(MODELS)]
        before = self._writer.get_model_or_raise(model_id)
        status = "maintenance" if before.status.value == "active" else "active"
        after = self._writer.update_model_status(model_id, status)
        returned = time.time()
        key = (model_id, after.version or 0)
        if key in self.returned or after.version == before.version:
            self.unchanged += 1
            return
        self.returned[key] = returned
        self.cache_revision[key] = self._cache.snapshots.snapshot.revision


@dataclass(frozen=True)
class Revision:
    """A revision the run made: when it committed, and when our write returned (None: not ours)."""

    number: int
    committed: float
    returned: float | None
    cache_revision: int | None


def newest_revision(admin: sa.Engine) -> int:
    with admin.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT coalesce(max(id), 0) FROM model_revisions")
            ).scalar_one()
        )


def revisions_of(admin: sa.Engine, after: int, writes: Writes) -> list[Revision]:
    """Every revision committed after ``after``, from the database, paired with our writes."""
    with admin.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, model_id, version, changed_at FROM model_revisions"
                " WHERE id > :after ORDER BY id"
            ),
            {"after": after},
        ).all()
    return [
        Revision(
            number,
            changed_at.timestamp(),
            writes.returned.get((model_id, version)),
            writes.cache_revision.get((model_id, version)),
        )
        for number, model_id, version, changed_at in rows
    ]


@dataclass
class Delivery:
    """What the readers did with the run's revisions."""

    revisions: int  # written in the run (the database's count)
    checked: int  # of those, checked against every reader that started before it
    paired: int  # of those, paired with the instant our write returned
    missed: int  # (revision, reader) pairs: a reader that never applied a revision
    own_behind: int  # our writes whose call returned before our own cache held them
    latencies: list[float]  # write returned -> last reader applied, per paired revision
    staleness: list[float]  # commit -> last reader applied, per revision
    stalest: list[tuple[float, int, bool]]  # (staleness, revision, ours), worst first


def delivery(
    revisions: list[Revision], found: dict[int, tuple[int, dict[int, float], dict[str, Any]]]
) -> Delivery:
    """Per revision: how long until the last reader applied it; which readers never did."""
    result = Delivery(len(revisions), 0, 0, 0, 0, [], [], [])
    for revision in revisions:
        times, expected = [], 0
        for start, applied, _ in found.values():
            if revision.number <= start:
                continue  # in the reader's snapshot already
            expected += 1
            if revision.number not in applied:
                result.missed += 1
            else:
                times.append(applied[revision.number])
        result.checked += expected > 0
        if revision.cache_revision is not None and revision.cache_revision < revision.number:
            result.own_behind += 1
        if not times:
            continue
        result.staleness.append(max(times) - revision.committed)
        result.stalest.append(
            (result.staleness[-1], revision.number, revision.returned is not None)
        )
        if revision.returned is not None:
            result.paired += 1
            result.latencies.append(max(times) - revision.returned)
    result.stalest = sorted(result.stalest, reverse=True)[:5]
    return result


class Pacer:
    """One change every 20-50 ms, start to start (a write that overran starts the next at once)."""

    def __init__(self) -> None:
        self._next = time.monotonic()
        self.late = 0
        """Changes that could not start on time (the previous write took longer)."""

    def wait(self) -> None:
        self._next += random.uniform(0.020, 0.050)  # noqa: S311 - pacing, not secrets
        pause = self._next - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            self.late += 1
            self._next = time.monotonic()


class Progress:
    """A line every ``every`` changes: rate and load (a long run's log shows where it is)."""

    def __init__(self, total: int, every: int = 1000) -> None:
        self._total = total
        self._every = every
        self._started = time.monotonic()

    def note(self, done: int) -> None:
        if done % self._every or not done:
            return
        elapsed = time.monotonic() - self._started
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"  {done:,}/{self._total:,} changes in {elapsed:.0f} s "
            f"({elapsed / done * 1000:.1f} ms each), load average {load}",
            flush=True,
        )


# -- the scale run ------------------------------------------------------------------------


@dataclass
class Servers:
    url: str
    nats_url: str
    pg_dir: Path
    nats_pid: int


def scale_run(mode: str, count: int, changes: int, servers: Servers) -> dict[str, Any]:
    url, nats_url, pg_dir, nats_pid = (
        servers.url,
        servers.nats_url,
        servers.pg_dir,
        servers.nats_pid,
    )
    feed = f"{nats_url}/bench_{uuid.uuid4().hex[:8]}" if mode == "jetstream" else ""
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    readers = Readers.start(count, url, feed)
    time.sleep(3)  # idle: the pool's connections are let go after 1 s
    idle = client_connections(admin)
    with ModelRegistry(url, feed=feed or None) as writer:
        writes, pacer = Writes(writer), Pacer()
        first = newest_revision(admin)
        pg_before = postgres_cpu(pg_dir)
        nats_before = cpu_seconds([nats_pid])
        peak = 0
        for number in range(changes):
            pacer.wait()
            writes.change(number)
            if number % 20 == 0:
                peak = max(peak, client_connections(admin))
        time.sleep(2)
        pg_cpu = postgres_cpu(pg_dir) - pg_before
        nats_cpu = cpu_seconds([nats_pid]) - nats_before
    found = readers.finish()
    result = delivery(revisions_of(admin, first, writes), found)
    admin.dispose()
    return {
        "mode": mode,
        "readers": count,
        "idle_connections": idle,
        "peak_connections": peak,
        "p50_ms": quantile(result.latencies, 0.5) * 1000,
        "p99_ms": quantile(result.latencies, 0.99) * 1000,
        "missed": result.missed,
        "checked": f"{result.paired} of {result.revisions}",
        "pg_cpu_ms_per_change": pg_cpu / changes * 1000,
        "nats_cpu_ms_per_change": nats_cpu / changes * 1000,
        "late": pacer.late,
        "harness_errors": writes.unchanged + result.own_behind,
    }


# -- the fault run ------------------------------------------------------------------------

KILLED_WRITER = """
import sys
from modelregistry import ModelRegistry
registry = ModelRegistry(sys.argv[1], feed=sys.argv[2])
registry.update_model_status("llama3.2:3b", sys.argv[3])
"""


def drain(stream: IO[str], into: list[str]) -> threading.Thread:
    """Read ``stream`` to its end on a thread (a full pipe would block the relay's logging)."""
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


def fault_run(count: int, changes: int, url: str, nats_server: Any) -> dict[str, Any]:
    feed = f"{nats_server.url}/fault_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": url}
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    relay_command = [str(Path(sys.executable).with_name("modelregistry")), "relay", "--feed", feed]
    relay = subprocess.Popen(  # noqa: S603 - our own console script
        relay_command, env=env, stderr=subprocess.PIPE, text=True
    )
    if relay.stderr is None:
        sys.exit("the relay's stderr is not a pipe")
    relay.stderr.readline()  # "relaying to stream ..."
    relay_log: list[str] = []
    draining = drain(relay.stderr, relay_log)
    readers = Readers.start(count, url, feed)
    go = FORK.Event()
    readers.spawn(url, feed, go)  # the reader that starts again, forked before the writer
    events: list[str] = []
    load_before = os.getloadavg()
    started = time.monotonic()
    with ModelRegistry(url, feed=feed) as writer:
        writes, pacer, progress = Writes(writer), Pacer(), Progress(changes)
        first = newest_revision(admin)
        for number in range(changes):
            if number == changes // 4:
                nats_server.kill()
                events.append(f"NATS killed at change {number}")
                threading.Timer(1.0, nats_server.start).start()
            if number == changes // 2:
                victim = readers.processes[0]
                os.kill(victim.pid or 0, signal.SIGKILL)
                victim.join()
                go.set()
                events.append(
                    f"reader {victim.pid} SIGKILLed at change {number}, a new one started"
                )
            if number == 3 * changes // 4:
                killed = subprocess.run(  # noqa: S603 - our own script
                    [sys.executable, "-c", KILLED_WRITER, url, feed, "deprecated"],
                    env={**env, DIE_BEFORE_PUBLISH_VARIABLE: "1"},
                    check=False,
                )
                events.append(
                    f"a writer SIGKILLed after its commit (exit {killed.returncode}) at change {number}"
                )
                pacer = Pacer()  # the killed writer's seconds are not lateness
            pacer.wait()
            writes.change(number)
            progress.note(number + 1)
        writing = time.monotonic() - started
        time.sleep(5)
    found = readers.finish()
    relay.send_signal(signal.SIGTERM)
    relay.wait(timeout=60)
    draining.join(timeout=10)
    relay.stderr.close()
    result = delivery(revisions_of(admin, first, writes), found)
    admin.dispose()
    return {
        "readers": count,
        "revisions": result.revisions,
        "checked": result.checked,
        "paired": result.paired,
        "missed": result.missed,
        "p50_ms": quantile(result.latencies, 0.5) * 1000,
        "p99_ms": quantile(result.latencies, 0.99) * 1000,
        "worst_staleness_s": max(result.staleness, default=0.0),
        "stalest (s, at change, ours)": [
            (round(stale, 3), number - first, ours) for stale, number, ours in result.stalest
        ],
        "events": events,
        "gap_reads": sum(feed.get("gap_reads", 0) for _, _, feed in found.values()),
        "polls": sum(feed.get("polls", 0) for _, _, feed in found.values()),
        "readers_reporting": len(found),
        "writing_s": writing,
        "late": pacer.late,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "harness_errors": writes.unchanged + result.own_behind,
        "relay_log": relay_log,
    }


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", default="10,50,100", help="reader counts; 0: no scale rows")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--fault-changes", type=int, default=10_000)
    parser.add_argument("--fault-readers", type=int, default=10)
    parser.add_argument("--skip-fault", action="store_true")
    options = parser.parse_args()
    with throwaway_postgres() as postgres, throwaway_nats() as nats_server:
        if postgres is None or nats_server is None:
            sys.exit("needs PostgreSQL's binaries (initdb) and nats-server")
        (postgres.data_dir / "postgresql.conf").open("a").write("max_connections = 400\n")
        postgres.stop()
        postgres.start()
        url = postgres.url
        ModelRegistry(url, cache=False).close()  # migrate and seed once
        nats_pid = nats_server.process.pid if nats_server.process else 0
        servers = Servers(url, nats_server.url, postgres.data_dir, nats_pid)
        print(f"load average at start: {os.getloadavg()}  cores: {os.cpu_count()}")
        broken = 0
        counts = [int(n) for n in options.readers.split(",") if n.strip() not in {"", "0"}]
        if counts:
            print(
                f"{'readers':>7} {'mode':>9} {'idle conns':>10} {'peak':>5} {'p50 ms':>8} "
                f"{'p99 ms':>8} {'missed':>6} {'pg cpu ms/chg':>13} {'nats cpu ms/chg':>15} "
                f"{'paired':>12} {'late':>5}"
            )
        for count in counts:
            for mode in ("jetstream", "listen"):
                row = scale_run(mode, count, options.changes, servers)
                broken += row["missed"] + row["harness_errors"]
                print(
                    f"{row['readers']:>7} {row['mode']:>9} {row['idle_connections']:>10} "
                    f"{row['peak_connections']:>5} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
                    f"{row['missed']:>6} {row['pg_cpu_ms_per_change']:>13.2f} "
                    f"{row['nats_cpu_ms_per_change']:>15.2f} {row['checked']:>12} "
                    f"{row['late']:>5}",
                    flush=True,
                )
        if not options.skip_fault:
            fault = fault_run(options.fault_readers, options.fault_changes, url, nats_server)
            broken += fault["missed"] + fault["harness_errors"]
            print("fault run:")
            for key, value in fault.items():
                print(f"  {key}: {value}")
        print(f"load average at end: {os.getloadavg()}")
    if broken:
        sys.exit(f"{broken} revisions missed or harness checks failed (see above)")


if __name__ == "__main__":
    main()
