"""The seed's code runs unchanged: its import paths and its Execution Examples block."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import modelregistry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "seed_workflow.py"
USE_CASE_7 = EXAMPLES / "seed_use_case_7.py"
SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "ModelRegistry.md"

# What the seed's block prints on a new catalog, from the seed's own data.
EXPECTED = """\
Default models loaded: 3

=== Vision Models ===
  gpt-4-turbo (openai)
  llava-llama3:latest (ollama)

=== Streaming + Tool Use ===
  gpt-4-turbo

=== OpenAI Models ===
  GPT-4 Turbo

=== Llama 3.1 8B ===
  Context: 128,000 tokens
  Latency: 500ms (p50)
  Quality: reasoning=0.75

llama3.2:3b status: deprecated

3 available models

=== Registry Stats ===
  Total: 4
  Active: 3
  Providers: ['ollama', 'openai']
  Capabilities: ['json_mode', 'streaming', 'tool_use', 'vision']
"""


def run_example(database_url: str, example: Path = EXAMPLE) -> str:
    env = {**os.environ, "MODELREGISTRY_DATABASE_URL": database_url}
    completed = subprocess.run(
        [sys.executable, str(example)], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    return completed.stdout


def test_seed_execution_examples_print_the_seeds_data(database_url: str) -> None:
    assert run_example(database_url) == EXPECTED


def test_seed_execution_examples_run_again_on_the_same_catalog(database_url: str) -> None:
    run_example(database_url)
    # The catalog persisted: the second run starts with the model the first one registered.
    second = EXPECTED.replace("Default models loaded: 3", "Default models loaded: 4", 1)
    assert run_example(database_url) == second


def test_seed_example_by_default_runs_on_a_throwaway_catalog_and_says_so(
    tmp_path: Path, database_url: str
) -> None:
    # As a user runs it: no catalog named, a home (and data directories) of their own.
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MODELREGISTRY_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(EXAMPLE), *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done

    for _ in range(2):  # throwaway: the second run starts from the defaults again
        done = run()
        assert done.stdout == EXPECTED
        assert done.stderr == (
            "note: running on a throwaway in-memory catalog "
            "(--db URL or MODELREGISTRY_DATABASE_URL names a real one)\n"
        )
    # The user's default catalog was neither created nor touched: nothing was written at home.
    assert list(home.rglob("*")) == []
    # --db names a real catalog (here the test's): it runs there, without the note.
    named = run("--db", database_url)
    assert (named.stdout, named.stderr) == (EXPECTED, "")
    with modelregistry.ModelRegistry(database_url) as registry:
        assert registry.get_model("gpt-4-turbo") is not None


def test_seed_import_paths_re_export_the_same_objects() -> None:
    from L04_model_gateway.models import (  # noqa: PLC0415 - the import is what is tested
        ModelCapabilities,
        ModelConfig,
        ModelStatus,
        QualityScores,
    )
    from L04_model_gateway.services.model_registry import (  # noqa: PLC0415
        ModelRegistry,
    )

    assert ModelRegistry is modelregistry.ModelRegistry
    assert ModelConfig is modelregistry.ModelConfig
    assert ModelCapabilities is modelregistry.ModelCapabilities
    assert QualityScores is modelregistry.QualityScores
    assert ModelStatus is modelregistry.ModelStatus


def seed_block(heading: str) -> str:
    if not SEED.exists():
        pytest.skip(f"the seed specification is not beside this checkout ({SEED})")
    return SEED.read_text().split(heading)[1].split("```python\n")[1].split("```")[0]


def test_example_is_the_seed_block_verbatim() -> None:
    assert EXAMPLE.read_text().endswith(seed_block("## Execution Examples"))


def test_seed_use_case_7_awaits_the_async_registry(database_url: str) -> None:
    # Two Anthropic models, one deprecated: the seed's filter lists the active one only.
    assert run_example(database_url, USE_CASE_7) == "- Claude 3 Opus\n"


def test_use_case_7_example_holds_the_seed_block_verbatim() -> None:
    example = USE_CASE_7.read_text().split("        # The seed's use case 7:\n")[1]
    example = example.split("\n\n\nasyncio.run")[0] + "\n"
    assert textwrap.dedent(example) == seed_block("### 7. List with Filters")
