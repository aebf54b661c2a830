"""What recording operations for the metrics costs cached reads, measured in one run.

    python benchmarks/operation_overhead.py [--models 1000]

Each cached read of a 1,000-model SQLite catalog is timed as the public, recorded method and
as the same method without its recording (``__wrapped__``, the function the decorator
wraps), beside a plain dict lookup; best of 40 repeats, in µs per call. ``get_model`` and
``get_model_or_raise`` finding the model are never recorded (see modelregistry.metrics.telemetry).
Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import timeit
from pathlib import Path
from typing import Any

from modelregistry import ModelConfig, ModelRegistry


def catalog(size: int) -> list[dict[str, Any]]:
    return [
        ModelConfig(
            model_id=f"provider-{n % 7}/model-{n}:latest",
            provider=f"provider-{n % 7}",
            context_window=8192 + n,
            max_output_tokens=4096,
            capabilities={"supports_streaming": True, "supports_vision": n % 3 == 0},
        ).model_dump(mode="json")
        for n in range(size)
    ]


def best(function: Any) -> float:
    timer = timeit.Timer(function)
    number = max(timer.autorange()[0] // 5, 1)
    return min(timer.repeat(repeat=40, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    size = parser.parse_args().models
    with (
        tempfile.TemporaryDirectory() as directory,
        ModelRegistry(f"sqlite:///{Path(directory) / 'catalog.db'}") as registry,
    ):
        registry.import_catalog({"models": catalog(size)})
        some_id = f"provider-3/model-{size // 2}:latest"
        plain = {some_id: registry.get_model(some_id)}
        print(f"{'dict.get':28s} {best(lambda: plain.get(some_id)):7.3f} µs")
        print(f"{'get_model':28s} {best(lambda: registry.get_model(some_id)):7.3f} µs")
        print(
            f"{'get_model_or_raise':28s} "
            f"{best(lambda: registry.get_model_or_raise(some_id)):7.3f} µs"
        )
        reads: dict[str, tuple[Any, tuple[Any, ...]]] = {
            # Methods that call no other public method (one that does would record it when
            # called unwrapped).
            "list_models": (ModelRegistry.list_models, ("provider-3",)),
            "get_providers": (ModelRegistry.get_providers, ()),
            "get_stats": (ModelRegistry.get_stats, ()),
        }
        print(f"{'':28s} {'recorded':>10s} {'not':>8s} {'cost':>8s}")
        for name, (method, args) in reads.items():
            recorded = best(lambda m=method, a=args: m(registry, *a))
            bare = best(lambda m=method, a=args: m.__wrapped__(registry, *a))
            print(f"{name:28s} {recorded:8.3f} µs {bare:6.3f} µs {recorded - bare:+6.3f} µs")


if __name__ == "__main__":
    main()
