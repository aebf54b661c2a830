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
from typing import TYPE_CHECKING, Any

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


def write(writer: ModelRegistry, number: int) -> None:
    model = MODELS[number % len(MODELS)]
    writer.update_model_status(model, "maintenance" if (number // 3) % 2 == 0 else "active")


class Writes:
    """The writer's own revisions, each with the instant its write returned.

    The revision is read from the writer's cache, which holds a write before it returns
    (a subscriber would be told later, on the cache's dispatcher thread: too late to pair a
    revision with its return).
    """

    def __init__(self, writer: ModelRegistry) -> None:
        cache = writer._parts.cache  # noqa: SLF001 - the revision a write just made
        if cache is None:
            sys.exit("the writer needs its cache")
        self._cache = cache
        self.returned: dict[int, float] = {}

    def returned_now(self) -> None:
        self.returned[self._cache.snapshots.snapshot.revision] = time.time()


def delivery(
    writes: dict[int, float], found: dict[int, tuple[int, dict[int, float], dict[str, Any]]]
) -> tuple[list[float], int]:
    """Per revision: seconds from the write returning to the last reader applying it; misses."""
    latencies, missed = [], 0
    for revision, returned in writes.items():
        times = []
        for start, applied, _ in found.values():
            if revision <= start:
                continue
            if revision not in applied:
                missed += 1
            else:
                times.append(applied[revision])
        if times:
            latencies.append(max(times) - returned)
    return latencies, missed


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
        writes = Writes(writer)
        pg_before = postgres_cpu(pg_dir)
        nats_before = cpu_seconds([nats_pid])
        peak = 0
        for number in range(changes):
            write(writer, number)
            writes.returned_now()
            if number % 20 == 0:
                peak = max(peak, client_connections(admin))
            time.sleep(random.uniform(0.020, 0.050))  # noqa: S311 - pacing, not secrets
        time.sleep(2)
        pg_cpu = postgres_cpu(pg_dir) - pg_before
        nats_cpu = cpu_seconds([nats_pid]) - nats_before
    found = readers.finish()
    admin.dispose()
    latencies, missed = delivery(writes.returned, found)
    return {
        "mode": mode,
        "readers": count,
        "idle_connections": idle,
        "peak_connections": peak,
        "p50_ms": quantile(latencies, 0.5) * 1000,
        "p99_ms": quantile(latencies, 0.99) * 1000,
        "missed": missed,
        "pg_cpu_ms_per_change": pg_cpu / changes * 1000,
        "nats_cpu_ms_per_change": nats_cpu / changes * 1000,
    }


# -- the fault run ------------------------------------------------------------------------

KILLED_WRITER = """
import sys
from modelregistry import ModelRegistry
registry = ModelRegistry(sys.argv[1], feed=sys.argv[2])
registry.update_model_status("llama3.2:3b", sys.argv[3])
"""


def fault_run(count: int, changes: int, url: str, nats_server: Any) -> dict[str, Any]:
    feed = f"{nats_server.url}/fault_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": url}
    relay_command = [str(Path(sys.executable).with_name("modelregistry")), "relay", "--feed", feed]
    relay = subprocess.Popen(  # noqa: S603 - our own console script
        relay_command, env=env, stderr=subprocess.PIPE, text=True
    )
    if relay.stderr is None:
        sys.exit("the relay's stderr is not a pipe")
    relay.stderr.readline()  # "relaying to stream ..."
    readers = Readers.start(count, url, feed)
    go = FORK.Event()
    readers.spawn(url, feed, go)  # the reader that starts again, forked before the writer
    events: list[str] = []
    with ModelRegistry(url, feed=feed) as writer:
        writes = Writes(writer)
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
                status = "deprecated"
                killed = subprocess.run(  # noqa: S603 - our own script
                    [sys.executable, "-c", KILLED_WRITER, url, feed, status],
                    env={**env, DIE_BEFORE_PUBLISH_VARIABLE: "1"},
                    check=False,
                )
                writer.refresh()
                writes.returned_now()
                events.append(
                    f"a writer SIGKILLed after its commit (exit {killed.returncode}) at change {number}"
                )
            write(writer, number)
            writes.returned_now()
            time.sleep(random.uniform(0.0, 0.005))  # noqa: S311 - pacing, not secrets
        time.sleep(5)
    found = readers.finish()
    relay.send_signal(signal.SIGTERM)
    relay.wait(timeout=60)
    relay.stderr.close()
    latencies, missed = delivery(writes.returned, found)
    return {
        "readers": count,
        "changes": len(writes.returned),
        "missed": missed,
        "p50_ms": quantile(latencies, 0.5) * 1000,
        "p99_ms": quantile(latencies, 0.99) * 1000,
        "worst_staleness_s": max(latencies, default=0.0),
        "events": events,
        "gap_reads": sum(feed.get("gap_reads", 0) for _, _, feed in found.values()),
        "polls": sum(feed.get("polls", 0) for _, _, feed in found.values()),
    }


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", default="10,50,100")
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
        print(
            f"{'readers':>7} {'mode':>9} {'idle conns':>10} {'peak':>5} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'missed':>6} {'pg cpu ms/chg':>13} {'nats cpu ms/chg':>15}"
        )
        for count in (int(n) for n in options.readers.split(",")):
            for mode in ("jetstream", "listen"):
                row = scale_run(mode, count, options.changes, servers)
                print(
                    f"{row['readers']:>7} {row['mode']:>9} {row['idle_connections']:>10} "
                    f"{row['peak_connections']:>5} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
                    f"{row['missed']:>6} {row['pg_cpu_ms_per_change']:>13.2f} "
                    f"{row['nats_cpu_ms_per_change']:>15.2f}",
                    flush=True,
                )
        if not options.skip_fault:
            fault = fault_run(options.fault_readers, options.fault_changes, url, nats_server)
            print(f"fault run: {fault}")
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
