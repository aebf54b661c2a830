"""import, export and watch, as an admin runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from cases import GPT4_TURBO, config
from modelregistry import ModelConfig, ModelRegistry
from modelregistry.domain.documents import dump_catalog

if TYPE_CHECKING:
    from cases import Cli

CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"


def test_export_prints_or_writes_a_catalog_file(cli: Cli, tmp_path: Path) -> None:
    printed = cli("export", "--provider", "ollama")
    assert printed.exit_code == 0
    data = yaml.safe_load(printed.stdout)
    assert data["schema_version"] == 2
    assert [m["model_id"] for m in data["models"]] == [
        "llama3.1:8b",
        "llama3.2:3b",
        "llava-llama3:latest",
    ]
    target = tmp_path / "catalog.json"
    written = cli("export", "-o", str(target), "--status", "active")
    assert written.exit_code == 0
    assert len(json.loads(target.read_text())["models"]) == 3
    assert cli("export", "--format", "toml").exit_code == 2


def test_import_reports_what_it_did_and_dry_run_writes_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    # The watched directory holds the catalog file alone: the database's files and the
    # watcher's output live elsewhere, so their changes never crowd its events.
    (tmp_path / "watched").mkdir()
    path = tmp_path / "watched" / "catalog.yaml"
    path.write_text(dump_catalog([ModelConfig(**GPT4_TURBO)], "yaml"))
    dry = cli("import", str(path), "--prune", "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout.splitlines()[0] == (
        "added 1, changed 0, unchanged 0, removed 3 (dry run: nothing written)"
    )
    with ModelRegistry(database_url) as registry:
        assert registry.get_model("gpt-4-turbo") is None
    done = cli("import", str(path), "--prune", "--actor", "ci", "--json")
    assert json.loads(done.stdout)["added"] == ["gpt-4-turbo"]
    with ModelRegistry(database_url) as registry:
        assert [m.model_id for m in registry.list_models()] == ["gpt-4-turbo"]
        assert registry.get_model_history("gpt-4-turbo")[0].actor == "ci"


def test_an_invalid_file_lists_every_problem_and_changes_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.yaml"
    entries = [GPT4_TURBO, config(model_id="bad id", context_window=0), {"x": 1}]
    # JSON first: shared nested dicts would make PyYAML write aliases, which imports refuse.
    path.write_text(yaml.safe_dump(json.loads(json.dumps({"models": entries}))))
    result = cli("import", str(path), "--prune")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: E4005: invalid catalog")
    assert "problems" in lines[0]
    assert any("models[1](bad id).model_id" in line for line in lines[1:])
    assert any("models[1](bad id).context_window" in line for line in lines[1:])
    assert any("models[2].x: is not a known field" in line for line in lines[1:])
    with ModelRegistry(database_url) as registry:
        assert registry.get_stats()["total_models"] == 3


@pytest.mark.slow
def test_watch_applies_each_edit_and_rejects_an_invalid_one(
    database_url: str, tmp_path: Path
) -> None:
    # The watched directory holds the catalog file alone: the database's files and the
    # watcher's output live elsewhere, so their changes never crowd its events.
    (tmp_path / "watched").mkdir()
    path = tmp_path / "watched" / "catalog.yaml"
    path.write_text(dump_catalog([ModelConfig(**GPT4_TURBO)], "yaml"))
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": database_url}
    out_path, err_path = tmp_path / "watch.out", tmp_path / "watch.err"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        watcher = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "watch", str(path)],
            env=env,
            stdout=out_file,
            stderr=err_file,
            text=True,
        )

    def wait_until(predicate: object, what: str) -> None:
        deadline = time.monotonic() + 60
        while not predicate():  # type: ignore[operator]
            assert watcher.poll() is None, err_path.read_text()
            if time.monotonic() > deadline:
                output = f"stdout: {out_path.read_text()!r}; stderr: {err_path.read_text()!r}"
                pytest.fail(f"timed out waiting for {what} ({output})")
            time.sleep(0.05)

    def window() -> int | None:
        with ModelRegistry(database_url, cache=False) as registry:
            model = registry.get_model("gpt-4-turbo")
            return None if model is None else model.context_window

    try:
        wait_until(lambda: window() == 128000, "the first application")
        path.write_text(dump_catalog([ModelConfig(**config(context_window=64000))], "yaml"))
        wait_until(lambda: window() == 64000, "the edit")
        path.write_text("models:\n  - model_id: gpt-4-turbo\n    context_window: -1\n")
        wait_until(lambda: "rejected" in err_path.read_text(), "the invalid edit's rejection")
        assert window() == 64000
        path.write_text(dump_catalog([ModelConfig(**config(context_window=32000))], "yaml"))
        wait_until(lambda: window() == 32000, "the edit after the invalid one")
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            watcher.kill()  # never leave it behind for the next test
            watcher.wait(timeout=60)
            pytest.fail(f"watch did not stop on SIGINT; stderr: {err_path.read_text()!r}")
    out, err = out_path.read_text(), err_path.read_text()
    assert "rejected; the catalog is unchanged" in err
    assert "context_window" in err
    with ModelRegistry(database_url, cache=False) as registry:
        versions = [r.config.context_window for r in registry.get_model_history("gpt-4-turbo")]
    assert versions == [128000, 64000, 32000]
    assert "added 1" in out


def test_an_import_process_ends_with_every_connection_closed(tmp_path: Path) -> None:
    # The console script ends without the collector's shutdown walk (gc.freeze): nothing may
    # depend on it. The last connection closed checkpoints the WAL into the file and removes
    # it; a connection left to the shutdown would leave the -wal and -shm files behind.
    models = [ModelConfig.model_validate(config(model_id=f"bulk/{n:03}")) for n in range(300)]
    source = tmp_path / "catalog.yaml"
    source.write_text(dump_catalog(models, "yaml"), encoding="utf-8")
    database = tmp_path / "catalog.db"
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", f"sqlite:///{database}", "import", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["catalog.db", "catalog.yaml"]
    with ModelRegistry(f"sqlite:///{database}", cache=False) as registry:
        assert {m.model_id for m in registry.list_models()} >= {m.model_id for m in models}
