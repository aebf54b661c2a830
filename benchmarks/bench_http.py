"""HTTP benchmark: ``modelregistry serve`` beside a bare Starlette endpoint, same uvicorn, same run.

    python benchmarks/bench_http.py [--models 1000] [--seconds 5] [--connections 16] [--rounds 3]
        [--postgres-url URL]

Load comes from wrk (Debian's ``wrk`` package), a second process on the same machine, over
keep-alive connections. The reference is a Starlette application with one route returning a
constant JSON body, served by the same uvicorn settings (``modelregistry.server.run``: the
same protocol class, limits and event loop). Rounds alternate reference and server; the
medians of the requests per second are compared:

- ``GET /v1/models/{id}`` and the same with ``If-None-Match`` (a 304): target >= 0.7x;
- ``GET /v1/models`` with ``--models`` models: target >= 0.5x.

Then, on PostgreSQL (NOTIFY wakes the server's feed), a change's visibility: a second process
follows ``/api/changes/stream``; each ``update_model_status`` is timed from the moment it
returns to the moment its event arrives (CLOCK_MONOTONIC is one clock for every process):
target p99 <= 50 ms. Figures only: nothing fails on a slow figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench_data import database, generated_catalog, postgres_reachable

from modelregistry import ModelRegistry

SCRIPT = Path(sys.executable).parent / "modelregistry"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REFERENCE = textwrap.dedent(
    """
    import sys
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from modelregistry.server.run import Limits, listen, serve

    BODY = b'{"id":"llama3.1:8b","object":"model","created":1700000000,"owned_by":"ollama"}'

    async def constant(request):
        return Response(BODY, media_type="application/json")

    sock = listen("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    serve(Starlette(routes=[Route("/constant", constant)]), sock, Limits())
    """
)
FOLLOWER = textwrap.dedent(
    """
    import json, socket, sys, time
    port = int(sys.argv[1])
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(b"GET /api/changes/stream HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    stream = connection.makefile("rb")
    for raw in stream:
        line = raw.decode().rstrip("\\r\\n")
        if line.startswith("event: hello"):
            print("ready", flush=True)
        elif line.startswith("id: "):
            print(line[4:], time.monotonic(), flush=True)
    """
)


def start_server(url: str, poll: str = "1.0") -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(SCRIPT), "--db", url, "serve", "--port", "0", "--poll-interval", poll],
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout is None:
        raise SystemExit("no output from the server")
    line = process.stdout.readline()
    base = re.search(r"http://[^/ ]+", line)
    if base is None:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    wait_ready(base.group(0))
    return process, base.group(0)


def start_reference() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", REFERENCE], stdout=subprocess.PIPE, text=True
    )
    if process.stdout is None:
        raise SystemExit("no output from the reference")
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as answer:  # noqa: S310 - our own server
                if answer.status == 200:  # noqa: PLR2004 - HTTP's OK
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} never got ready")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> float:
    """Requests per second, measured by wrk (one thread: the machine has few cores)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(  # noqa: S603 - wrk, with our own arguments
        [*command, url], capture_output=True, text=True, check=True
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    refused = "Non-2xx" in done.stdout and "If-None-Match" not in (headers or {})
    if found is None or refused:
        raise SystemExit(f"wrk said: {done.stdout}")
    return float(found.group(1))


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - our own server
        return str(answer.headers["ETag"])


def throughput(args: argparse.Namespace, directory: Path) -> list[dict[str, Any]]:
    url = f"sqlite:///{directory / 'http-bench.db'}"
    with ModelRegistry(url) as registry:
        registry.import_catalog({"models": generated_catalog(args.models - 3)})
    server, base = start_server(url)
    reference, ref_base = start_reference()
    rows = []
    try:
        one = f"{base}/v1/models/llama3.1:8b"
        tag = etag_of(one)
        etag_of(f"{base}/v1/models")  # built once, then served from memory
        targets = [
            ("GET /v1/models/{id}", one, {}, 0.7),
            ("GET /v1/models/{id} 304", one, {"If-None-Match": tag}, 0.7),
            (f"GET /v1/models ({args.models} models)", f"{base}/v1/models", {}, 0.5),
        ]
        for name, target, headers, floor in targets:
            ours, refs = [], []
            for _ in range(args.rounds):
                refs.append(wrk(f"{ref_base}/constant", args.seconds, args.connections))
                ours.append(wrk(target, args.seconds, args.connections, headers))
            ratio = statistics.median(ours) / statistics.median(refs)
            rows.append(
                {
                    "name": name,
                    "rps": statistics.median(ours),
                    "reference_rps": statistics.median(refs),
                    "ratio": ratio,
                    "target": floor,
                    "met": ratio >= floor,
                }
            )
    finally:
        for process in (server, reference):
            process.terminate()
            process.wait(30)
    return rows


def visibility(args: argparse.Namespace, directory: Path) -> dict[str, Any] | None:
    reason = postgres_reachable(args.postgres_url)
    if reason is not None:
        print(f"(no PostgreSQL, no visibility figure: {reason})")
        return None
    with database("postgresql", args.postgres_url, directory) as db:
        ModelRegistry(db.url).close()
        server, base = start_server(db.url, poll="1.0")
        port = base.rsplit(":", 1)[1]
        follower = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", FOLLOWER, port], stdout=subprocess.PIPE, text=True
        )
        try:
            if follower.stdout is None or follower.stdout.readline().strip() != "ready":
                raise SystemExit("the stream follower did not start")
            returned: dict[int, float] = {}
            with ModelRegistry(db.url, cache=False) as writer:
                for n in range(args.changes):
                    status = "deprecated" if n % 2 == 0 else "active"
                    writer.update_model_status("llama3.1:8b", status)
                    returned[n] = time.monotonic()
                    line = follower.stdout.readline().split()
                    arrived = float(line[1])
                    returned[n] = arrived - returned[n]
            latencies = sorted(value * 1000 for value in returned.values())
        finally:
            follower.kill()
            server.terminate()
            server.wait(30)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "changes": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": p99,
        "max_ms": latencies[-1],
        "target_ms": 50,
        "met": p99 <= 50,  # noqa: PLR2004 - the issue's target
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MODELREGISTRY_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as name:
        rows = throughput(args, Path(name))
        seen = visibility(args, Path(name))
    print(f"{'what':<34} {'rps':>9} {'reference':>10} {'ratio':>6} {'target':>7}")
    for row in rows:
        mark = "met" if row["met"] else "MISSED"
        print(
            f"{row['name']:<34} {row['rps']:>9.0f} {row['reference_rps']:>10.0f} "
            f"{row['ratio']:>5.2f}x {'>= ' + str(row['target']) + 'x':>7} {mark}"
        )
    if seen is not None:
        mark = "met" if seen["met"] else "MISSED"
        print(
            f"SSE visibility after the write returns, {seen['changes']} changes: "
            f"p50 {seen['p50_ms']:.1f} ms, p99 {seen['p99_ms']:.1f} ms, max {seen['max_ms']:.1f} ms "
            f"(target p99 <= 50 ms) {mark}"
        )
    print(json.dumps({"throughput": rows, "visibility": seen, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
