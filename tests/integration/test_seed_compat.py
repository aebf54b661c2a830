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
