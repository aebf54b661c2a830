"""The seed's "Execution Examples" block, verbatim (``../shared/seed/ModelRegistry.md``).

By default it runs against a throwaway in-memory catalog (and says so on stderr): the block
registers a model and deprecates another, which nobody wants done to their real catalog by
accident. ``--db URL`` or ``MODELREGISTRY_DATABASE_URL`` names a real one.
``tests/integration/test_seed_compat.py`` runs it on SQLite and PostgreSQL and checks what it
prints, and that by default it leaves the user's catalog alone.

Everything from "# Complete model registry workflow" on is the seed's code, unchanged.
"""

import argparse
import os
import sys

_parser = argparse.ArgumentParser(description="The seed's Execution Examples, on a catalog.")
_parser.add_argument(
    "--db",
    metavar="URL",
    help="The catalog to run on (default: $MODELREGISTRY_DATABASE_URL, else a throwaway "
    "in-memory one).",
)
_db = _parser.parse_args().db
if _db:
    os.environ["MODELREGISTRY_DATABASE_URL"] = _db
elif not os.environ.get("MODELREGISTRY_DATABASE_URL"):
    os.environ["MODELREGISTRY_DATABASE_URL"] = "sqlite://"
    print(
        "note: running on a throwaway in-memory catalog "
        "(--db URL or MODELREGISTRY_DATABASE_URL names a real one)",
        file=sys.stderr,
    )

# Complete model registry workflow
from L04_model_gateway.services.model_registry import ModelRegistry
from L04_model_gateway.models import (
    ModelConfig,
    ModelCapabilities,
    QualityScores,
    ModelStatus
)

# Initialize
registry = ModelRegistry()

# 1. Load default models
registry.load_default_models()
print(f"Default models loaded: {registry.get_stats()['total_models']}")

# 2. Register custom model
custom_model = ModelConfig(
    model_id="gpt-4-turbo",
    provider="openai",
    display_name="GPT-4 Turbo",
    capabilities=ModelCapabilities(
        supports_streaming=True,
        supports_vision=True,
        supports_tool_use=True,
        supports_json_mode=True
    ),
    context_window=128000,
    max_output_tokens=4096,
    cost_per_1m_input_tokens=10.0,
    cost_per_1m_output_tokens=30.0,
    rate_limit_rpm=500,
    rate_limit_tpm=90000,
    latency_p50_ms=1000,
    latency_p99_ms=5000,
    status=ModelStatus.ACTIVE,
    quality_scores=QualityScores(
        reasoning=0.90,
        coding=0.88,
        creative=0.85,
        summarization=0.87
    )
)
registry.register_model(custom_model)

# 3. Query by capability
print("\n=== Vision Models ===")
for model in registry.get_models_by_capability("vision"):
    print(f"  {model.model_id} ({model.provider})")

# 4. Query by multiple capabilities
print("\n=== Streaming + Tool Use ===")
for model in registry.get_models_by_capabilities(["streaming", "tool_use"]):
    print(f"  {model.model_id}")

# 5. Query by provider
print("\n=== OpenAI Models ===")
for model in registry.get_models_by_provider("openai"):
    print(f"  {model.display_name}")

# 6. Get specific model
model = registry.get_model("llama3.1:8b")
if model:
    print(f"\n=== {model.display_name} ===")
    print(f"  Context: {model.context_window:,} tokens")
    print(f"  Latency: {model.latency_p50_ms}ms (p50)")
    print(f"  Quality: reasoning={model.quality_scores.reasoning}")

# 7. Update status
registry.update_model_status("llama3.2:3b", ModelStatus.DEPRECATED)
print(f"\nllama3.2:3b status: {registry.get_model('llama3.2:3b').status.value}")

# 8. Get available models
available = registry.get_available_models()
print(f"\n{len(available)} available models")

# 9. Get statistics
stats = registry.get_stats()
print(f"\n=== Registry Stats ===")
print(f"  Total: {stats['total_models']}")
print(f"  Active: {stats['active_models']}")
print(f"  Providers: {stats['providers']}")
print(f"  Capabilities: {stats['capabilities']}")
