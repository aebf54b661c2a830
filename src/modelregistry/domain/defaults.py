"""The seed's three default models for local development (Ollama).

Revision ``0002`` seeds the same values into every new catalog (frozen in the migration); a
test checks that the two agree.
"""

from __future__ import annotations

from typing import Final

from modelregistry.domain.models import ModelCapabilities, ModelConfig, QualityScores

DEFAULT_MODELS: Final[tuple[ModelConfig, ...]] = (
    ModelConfig(
        model_id="llama3.1:8b",
        provider="ollama",
        display_name="Llama 3.1 8B",
        capabilities=ModelCapabilities(supports_streaming=True, supports_json_mode=True),
        context_window=128000,
        max_output_tokens=8192,
        rate_limit_rpm=1000,
        rate_limit_tpm=100000,
        latency_p50_ms=500,
        latency_p99_ms=2000,
        quality_scores=QualityScores(
            reasoning=0.75, coding=0.70, creative=0.80, summarization=0.78
        ),
    ),
    ModelConfig(
        model_id="llama3.2:3b",
        provider="ollama",
        display_name="Llama 3.2 3B",
        capabilities=ModelCapabilities(supports_streaming=True, supports_json_mode=True),
        context_window=128000,
        max_output_tokens=8192,
        rate_limit_rpm=1000,
        rate_limit_tpm=100000,
        latency_p50_ms=300,
        latency_p99_ms=1000,
        quality_scores=QualityScores(
            reasoning=0.65, coding=0.60, creative=0.70, summarization=0.68
        ),
    ),
    ModelConfig(
        model_id="llava-llama3:latest",
        provider="ollama",
        display_name="LLaVA Llama 3",
        capabilities=ModelCapabilities(supports_streaming=True, supports_vision=True),
        context_window=8192,
        max_output_tokens=4096,
        rate_limit_rpm=1000,
        rate_limit_tpm=50000,
        latency_p50_ms=800,
        latency_p99_ms=3000,
        quality_scores=QualityScores(
            reasoning=0.60, coding=0.50, creative=0.65, summarization=0.62
        ),
    ),
)
"""Models inserted by ``load_default_models()`` when missing."""
