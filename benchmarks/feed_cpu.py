"""CPU a JetStream reader spends per applied change, A/B between two checkouts in one run.

    python benchmarks/feed_cpu.py [--changes 500] [--readers 2] [--base ../w19r-base/src]
        [--bare] [--core]

A throwaway PostgreSQL and the shared nats-server (a stream of the run's own, deleted after).
``--readers`` reader processes of this checkout and, with ``--base``, as many of the other
checkout's source tree (``PYTHONPATH``), all subscribed to the same stream at once: both
sides see the same changes under the same machine load. One writer (this checkout) changes
a model every 5-15 ms. Each reader reports its process CPU (``getrusage``: user + system,
every thread) from the moment it is subscribed to the moment it has applied the last change,
less its idle CPU over as long a pause measured beforehand, divided by the changes applied.
``--bare``: also nats-py alone on an ordered JetStream consumer (the floor); ``--core``: also
nats-py alone on a plain subscription to the stream's subject (what a core-NATS push costs).

Figures only, printed: nothing fails on a slow one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from modelregistry import ModelRegistry
from throwaway_nats import SHARED_NATS, delete_stream
from throwaway_postgres import throwaway_postgres

MODELS = ("llama3.2:3b", "llama3.1:8b", "llava-llama3:latest")
HERE = Path(__file__).resolve().parents[1] / "src"
BARE_SIDE = Path("/nats-py-alone")
CORE_SIDE = Path("/nats-py-core")

READER = """
import json, resource, sys, threading, time
import modelregistry
from modelregistry import ModelRegistry

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def threads():
    import os
    names = {t.native_id: t.name for t in threading.enumerate()}
    found = {}
    for tid in os.listdir("/proc/self/task"):
        fields = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        name = names.get(int(tid), "other")
        found[name] = found.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found

url, feed, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
registry = ModelRegistry(url, feed=feed, poll_interval=0.5)
applied = []
done = threading.Event()

def note(event):
    applied.append(event.revision)
    if len(applied) >= expected:
        done.set()

registry.subscribe(note)
while registry.get_stats()["cache"]["feed"]["transport"] != "jetstream":
    time.sleep(0.01)
time.sleep(1.0)
idle_start = cpu(); time.sleep(2.0); idle = (cpu() - idle_start) / 2.0
print(json.dumps({"ready": modelregistry.__file__}), flush=True)
started, wall, by_thread = cpu(), time.monotonic(), threads()
done.wait(300)
used, elapsed = cpu() - started, time.monotonic() - wall
by_thread = {k: round(v - by_thread.get(k, 0), 3) for k, v in threads().items()}
stats = registry.get_stats()["cache"]["feed"]
print(json.dumps({"cpu": used, "idle_per_s": idle, "seconds": elapsed, "applied": len(applied),
                  "polls": stats.get("polls"), "gap_reads": stats.get("gap_reads"),
                  "threads": by_thread}), flush=True)
registry.close()
"""


BARE = """
import asyncio, json, resource, sys, time
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

async def main():
    servers, stream = sys.argv[2].rsplit("/", 1)
    expected, core = int(sys.argv[3]), sys.argv[4] == "core"
    client = await nats.connect(servers)
    js = client.jetstream()
    while True:
        try:
            await js.stream_info(stream)
            break
        except Exception:
            await asyncio.sleep(0.1)
    count, done = 0, asyncio.Event()

    async def received(msg):
        nonlocal count
        count += 1
        json.loads(msg.data)
        if count >= expected:
            done.set()

    if core:  # a plain NATS subscription on the stream's subject (no JetStream consumer)
        await client.subscribe(f"{stream}.changes", cb=received)
    else:
        await js.subscribe(f"{stream}.changes", stream=stream, cb=received,
                           ordered_consumer=True, idle_heartbeat=2.0,
                           config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW))
    await asyncio.sleep(1.0)
    idle_start = cpu(); await asyncio.sleep(2.0); idle = (cpu() - idle_start) / 2.0
    print(json.dumps({"ready": "nats-py alone, " + ("core" if core else "ordered")}), flush=True)
    started, wall = cpu(), time.monotonic()
    await asyncio.wait_for(done.wait(), 300)
    print(json.dumps({"cpu": cpu() - started, "idle_per_s": idle,
                      "seconds": time.monotonic() - wall, "applied": count,
                      "polls": 0, "gap_reads": 0}), flush=True)
    await client.close()

asyncio.run(main())
"""


def start_reader(src: Path, url: str, feed: str, changes: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    program = BARE if src in {BARE_SIDE, CORE_SIDE} else READER
    mode = "core" if src == CORE_SIDE else "ordered"
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", program, url, feed, str(changes), mode],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--readers", type=int, default=2, help="per side")
    parser.add_argument("--base", type=Path, help="the other checkout's src directory")
    parser.add_argument(
        "--bare", action="store_true", help="also a nats-py subscriber alone (the floor)"
    )
    parser.add_argument(
        "--core",
        action="store_true",
        help="also a nats-py core subscription on the subject alone (no JetStream consumer)",
    )
    options = parser.parse_args()
    sides = {"this": HERE} | ({"base": options.base.resolve()} if options.base else {})
    if options.bare:
        sides["bare"] = BARE_SIDE
    if options.core:
        sides["core"] = CORE_SIDE
    stream = f"cpu_{uuid.uuid4().hex[:8]}"
    feed = f"{SHARED_NATS}/{stream}"
    with throwaway_postgres() as postgres:
        if postgres is None:
            sys.exit("needs PostgreSQL's binaries (initdb)")
        url = postgres.url
        ModelRegistry(url, cache=False).close()  # migrate and seed once
        with ModelRegistry(url, feed=feed) as writer:
            readers = [
                (side, start_reader(src, url, feed, options.changes))
                for _ in range(options.readers)
                for side, src in sides.items()
            ]
            for side, reader in readers:
                if reader.stdout is None:
                    sys.exit("a reader's stdout is not a pipe")
                print(f"{side}: {json.loads(reader.stdout.readline())['ready']}", flush=True)
            load = os.getloadavg()
            for number in range(options.changes):
                model_id = MODELS[number % len(MODELS)]
                model = writer.get_model_or_raise(model_id)
                status = "maintenance" if model.status.value == "active" else "active"
                writer.update_model_status(model_id, status)
                time.sleep(random.uniform(0.005, 0.015))  # noqa: S311 - pacing
            results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
            for side, reader in readers:
                if reader.stdout is None:
                    sys.exit("a reader's stdout is not a pipe")
                results[side].append(json.loads(reader.stdout.readline()))
                reader.wait(60)
    delete_stream(SHARED_NATS, stream)
    print(f"load average before the writes: {load}, after: {os.getloadavg()}")
    report(results)


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    """Each side's CPU per change (the mean of its readers), and this side's over base's."""
    per_side = {}
    for side, found in results.items():
        each = [
            (r["cpu"] - r["idle_per_s"] * r["seconds"]) / max(1, r["applied"]) * 1e6 for r in found
        ]
        per_side[side] = sum(each) / len(each)
        print(
            f"{side:>5}: {per_side[side]:8.1f} µs CPU per change "
            f"(each reader: {', '.join(f'{v:.1f}' for v in each)}; applied "
            f"{[r['applied'] for r in found]}, polls {[r['polls'] for r in found]}, "
            f"idle {[round(r['idle_per_s'] * 1e3, 2) for r in found]} ms/s)"
        )
        for r in found:
            if r.get("threads"):
                print(f"       CPU s by thread: {r['threads']}")
    if "base" in per_side:
        print(f"this / base: {per_side['this'] / per_side['base']:.3f}")


if __name__ == "__main__":
    main()
