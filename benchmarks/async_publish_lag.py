"""How long an AsyncModelRegistry write stops its event loop, with and without the feed.

    python benchmarks/async_publish_lag.py [--writes 300]

A ticker coroutine sleeps 1 ms at a time and notes how late each wake-up is; during each
write the worst lateness is the longest the loop was kept from running anything else. Run
against a throwaway PostgreSQL and a throwaway nats-server: once without a feed (the write's
own statements and Python work on the loop), once with ``feed=`` (the same, plus publishing),
once with ``feed=`` and nats-server stopped (SIGSTOP) so that no acknowledgement comes and
the publish waits out its whole timeout. With the feed it also reports how long each publish
waited for the stream's acknowledgement (the time the loop stood still before this was fixed,
and now spends running other tasks).

Figures only, printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from modelregistry import AsyncModelRegistry, ModelRegistry
from modelregistry.cache.nats_link import NatsLink
from throwaway_nats import throwaway_nats
from throwaway_postgres import throwaway_postgres

TICK = 0.001
WAITS: list[float] = []
"""Seconds each publish spent in ``NatsLink.run`` (waiting for the stream's acknowledgement)."""


def timed_waits() -> None:
    """Note how long each ``NatsLink.run`` takes (before this branch: the loop stood still)."""
    run = NatsLink.run

    def timed(self: NatsLink, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return run(self, *args, **kwargs)
        finally:
            WAITS.append(time.perf_counter() - started)

    NatsLink.run = timed  # type: ignore[method-assign]


class Ticker:
    """Sleeps :data:`TICK` at a time; the worst lateness since the last :meth:`take`."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = False

    async def run(self) -> None:
        while not self._stop:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, time.perf_counter() - before - TICK)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst

    def stop(self) -> None:
        self._stop = True


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def stalls(url: str, feed: str | None, writes: int) -> tuple[list[float], list[float]]:
    """Per write: the loop's worst stall during it, and the write's own duration."""
    async with AsyncModelRegistry(url, feed=feed, poll_interval=3600) as registry:
        await registry.update_model_status("llama3.2:3b", "active")  # connected, warmed
        ticker = Ticker()
        ticking = asyncio.create_task(ticker.run())
        await asyncio.sleep(0.05)
        worst, took = [], []
        for number in range(writes):
            status = "maintenance" if number % 2 == 0 else "active"
            ticker.take()
            started = time.perf_counter()
            await registry.update_model_status("llama3.2:3b", status)
            took.append(time.perf_counter() - started)
            worst.append(ticker.take())
            await asyncio.sleep(0.005)
        ticker.stop()
        await ticking
    return worst, took


def report(label: str, worst: list[float], took: list[float]) -> None:
    print(
        f"{label:<32} loop stall p50 {quantile(worst, 0.5) * 1000:6.2f} ms, "
        f"p99 {quantile(worst, 0.99) * 1000:7.2f} ms, max {max(worst) * 1000:7.2f} ms; "
        f"write p50 {quantile(took, 0.5) * 1000:6.2f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    options = parser.parse_args()
    with throwaway_postgres() as postgres, throwaway_nats() as nats_server:
        if postgres is None or nats_server is None or nats_server.process is None:
            sys.exit("needs PostgreSQL's binaries (initdb) and nats-server")
        ModelRegistry(postgres.url, cache=False).close()  # migrate and seed once
        print(f"load average at start: {os.getloadavg()}  cores: {os.cpu_count()}")
        feed = f"{nats_server.url}/lag_{uuid.uuid4().hex[:8]}"
        report("no feed", *asyncio.run(stalls(postgres.url, None, options.writes)))
        timed_waits()
        report("feed", *asyncio.run(stalls(postgres.url, feed, options.writes)))
        waits = WAITS[1:-1]  # (not the warm-up write's, nor the close)
        print(
            f"{'  its publish waits':<32} p50 {quantile(waits, 0.5) * 1000:6.2f} ms, "
            f"p99 {quantile(waits, 0.99) * 1000:7.2f} ms (in NatsLink.run: the stream's ack)",
            flush=True,
        )

        async def unanswered() -> tuple[list[float], list[float]]:
            async with AsyncModelRegistry(postgres.url, feed=feed, poll_interval=3600) as other:
                await other.update_model_status("llama3.2:3b", "active")  # connected
                pid = nats_server.process.pid if nats_server.process else 0
                os.kill(pid, signal.SIGSTOP)
                try:
                    ticker = Ticker()
                    ticking = asyncio.create_task(ticker.run())
                    await asyncio.sleep(0.05)
                    ticker.take()
                    started = time.perf_counter()
                    await other.update_model_status("llama3.2:3b", "maintenance")
                    took = time.perf_counter() - started
                    worst = ticker.take()
                    ticker.stop()
                    await ticking
                finally:
                    os.kill(pid, signal.SIGCONT)
            return [worst], [took]

        report("feed, NATS not answering (1 write)", *asyncio.run(unanswered()))
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
