"""benchmarks/run.py keeps running: a quick pass writes a results file with every operation.

Only that it runs and reports is checked; its figures are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "cold start (import, open, read)",
    "import_catalog (3,000 models)",
    "open (load the cache)",
    "get_model",
    "get_model miss",
    "get_models_by_capability",
    "get_models_by_capabilities (2)",
    "get_models_by_provider",
    "get_available_models",
    "find_models",
    "select_model",
    "find_models, repeated",
    "select_model, repeated",
    "get_model (cache=False)",
    "register_model",
    "update_model_status",
    "update_model_status after another writer's change",
    "propagation to another process",
    "modelregistry import, 5,000-model YAML",
    "modelregistry --version",
    "modelregistry --help",
}


@pytest.mark.slow
def test_quick_benchmark_writes_every_operation_to_its_results_file(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--quick",
            "--sizes",
            "3",
            "--backend",
            "sqlite",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
        # A bound against a hang only: a quick SQLite run takes ~35 s on a quiet machine.
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(output.read_text(encoding="utf-8"))
    assert {row["operation"] for row in results["results"]} == EXPECTED
    assert all(row["median_us"] > 0 for row in results["results"])
    assert "| sqlite | 3 | get_model |" in completed.stdout


@pytest.mark.slow
def test_jetstream_benchmark_checks_every_revision_of_a_small_fault_run() -> None:
    """benchmarks/jetstream.py pairs every revision it made (the killed writer's too)."""
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "jetstream.py"),
            "--readers",
            "2",
            "--changes",
            "20",
            "--fault-changes",
            "60",
            "--fault-readers",
            "2",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if "needs PostgreSQL's binaries" in completed.stderr:
        pytest.skip("needs initdb and nats-server on PATH")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = dict(
        line.strip().split(": ", 1) for line in completed.stdout.splitlines() if ": " in line
    )
    # 60 writes and the writer killed between commit and publish: all checked, none missed.
    assert report["revisions"] == report["checked"] == "61"
    assert report["paired"] == "60"
    assert report["missed"] == "0"
    assert report["harness_errors"] == "0"
    assert "20 of 20" in completed.stdout  # each scale row paired every write
