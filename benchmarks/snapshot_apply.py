"""CPU to apply one status change to a large catalog's snapshot, A/B between two checkouts.

    python benchmarks/snapshot_apply.py [--models 50000] [--rounds 3] [--base ../main/src]

Every process with a cache does this for each change it hears of (a JetStream reader for
every change on the stream, issue 19): the successor snapshot of a catalog of ``--models``
models (five providers, streaming and vision flags) after one model's status flips. Each
side runs in a process of its own (``PYTHONPATH``), the sides alternating for ``--rounds``
rounds; each reports the median process CPU (``time.process_time_ns``) of 200 applications.

Figures only, printed: nothing fails on a slow one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

PROGRAM = """
import statistics, sys, time
from datetime import UTC, datetime
from modelregistry import ModelConfig, ModelStatus
from modelregistry.cache.snapshot import Snapshot
from modelregistry.domain.history import ChangeKind, ModelRevision

size = int(sys.argv[1])
models = {}
for n in range(size):
    model_id = f"m{n:07d}"
    models[model_id] = ModelConfig(
        model_id=model_id, provider=f"p{n % 5}", context_window=8192, max_output_tokens=4096,
        capabilities={"supports_streaming": True, "supports_vision": n % 3 == 0},
    ).with_version(1)
now = datetime.now(UTC)
snapshot = Snapshot(1, models, {}, now)
target = models[f"m{size // 2:07d}"]
flips = [
    ModelRevision(
        target.model_id, version,
        target.model_copy(update={"status": status}).with_version(version),
        ChangeKind.STATUS_CHANGED, now, "bench", None,
    )
    for version, status in ((2, ModelStatus.MAINTENANCE), (3, ModelStatus.ACTIVE))
]
spent = []
for number in range(200):
    started = time.process_time_ns()
    snapshot = snapshot.apply(number + 2, [flips[number % 2]], None, at=now)
    spent.append(time.process_time_ns() - started)
print(statistics.median(spent) / 1000)
"""


def measure(src: Path, size: int) -> float:
    """The median µs of CPU per application, in a process running ``src``."""
    found = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PROGRAM, str(size)],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(found.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, help="the other checkout's src directory")
    options = parser.parse_args()
    sides = {"this": HERE} | ({"base": options.base.resolve()} if options.base else {})
    found: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(options.rounds):
        for side, src in sides.items():
            found[side].append(measure(src, options.models))
    print(f"load average: {os.getloadavg()}")
    for side, figures in found.items():
        print(
            f"{side:>5}: {statistics.median(figures):9.1f} µs CPU per status change "
            f"({', '.join(f'{figure:.1f}' for figure in figures)}; {options.models} models)"
        )
    if "base" in found:
        ratio = statistics.median(found["this"]) / statistics.median(found["base"])
        print(f"this / base: {ratio:.3f}")


if __name__ == "__main__":
    main()
