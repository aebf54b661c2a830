"""The descriptive fields each converter maps (modalities, mode, dates, open weights), on real
upstream entries: LiteLLM 1.80.0's map, models.dev model files, an OpenRouter model."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from modelregistry.domain.upstream import litellm, models_dev, openrouter
from modelregistry.domain.upstream.fields import apply_fields, flatten

TODAY = date(2026, 12, 2)

# Verbatim from LiteLLM 1.80.0's model_prices_and_context_window_backup.json.
GEMINI_25_FLASH = json.loads(
    '{"cache_read_input_token_cost": 3e-08, "input_cost_per_audio_token": 1e-06, '
    '"input_cost_per_token": 3e-07, "litellm_provider": "gemini", "max_input_tokens": 1048576, '
    '"max_output_tokens": 65535, "max_tokens": 65535, "mode": "chat", '
    '"output_cost_per_token": 2.5e-06, "rpm": 100000, '
    '"supported_modalities": ["text", "image", "audio", "video"], '
    '"supported_output_modalities": ["text"], "supports_function_calling": true, '
    '"supports_pdf_input": true, "supports_vision": true, "tpm": 8000000}',
    parse_float=Decimal,
)
LLAMA4_SCOUT = json.loads(
    '{"input_cost_per_token": 1.7e-07, "litellm_provider": "bedrock_converse", '
    '"max_input_tokens": 128000, "max_output_tokens": 4096, "max_tokens": 4096, '
    '"mode": "chat", "output_cost_per_token": 6.6e-07, '
    '"supported_modalities": ["text", "image"], "supported_output_modalities": ["text", "code"], '
    '"supports_function_calling": true, "supports_tool_choice": false}',
    parse_float=Decimal,
)
# models.dev's providers/openai/models/gpt-4o.toml and providers/azure/models/
# claude-haiku-4-5.toml, as api.json carries them (TOML read into JSON).
GPT_4O: dict[str, Any] = {
    "name": "GPT-4o",
    "attachment": True,
    "reasoning": False,
    "tool_call": True,
    "structured_output": True,
    "temperature": True,
    "knowledge": "2023-09",
    "release_date": "2024-05-13",
    "last_updated": "2026-06-27",
    "open_weights": False,
    "cost": {"input": 2.5, "output": 10, "cache_read": 1.25},
    "limit": {"context": 128000, "output": 16384},
    "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]},
}
CLAUDE_HAIKU_45 = {
    **GPT_4O,
    "name": "Claude Haiku 4.5",
    "release_date": "2025-11-18",
    "knowledge": "2025-02-31",  # as published: no such day
    "limit": {"context": 200000, "output": 64000},
}


def test_litellm_maps_modalities_and_mode_and_unknown_stays_unknown() -> None:
    conversion = litellm.convert(
        {
            "gemini/gemini-2.5-flash": GEMINI_25_FLASH,
            "bare": {**GEMINI_25_FLASH, "supported_modalities": None},
        },
        today=TODAY,
    )
    flash, bare = (model.config for model in conversion.models)
    assert flash.input_modalities == ("audio", "image", "text", "video")
    assert flash.output_modalities == ("text",)
    assert flash.mode == "chat"
    # LiteLLM says nothing of dates or weights: they stay unknown.
    assert (flash.release_date, flash.knowledge_cutoff, flash.open_weights) == (None, None, None)
    assert bare.input_modalities == ()
    assert conversion.dropped == []


def test_litellm_unknown_modality_is_dropped_with_a_reason_and_the_entry_kept() -> None:
    conversion = litellm.convert(
        {"us.meta.llama4-scout-17b-instruct-v1:0": LLAMA4_SCOUT}, today=TODAY
    )
    (model,) = conversion.models
    assert model.config.output_modalities == ("text",)
    reason = "supported_output_modalities: 'code' dropped: not a modality (audio, image, pdf, "
    assert [d.reason for d in conversion.dropped] == [reason + "text, video)"]


def test_models_dev_maps_modalities_dates_at_their_precision_and_open_weights() -> None:
    document = {
        "openai": {"id": "openai", "models": {"gpt-4o": GPT_4O}},
        "azure": {"id": "azure", "models": {"claude-haiku-4-5": CLAUDE_HAIKU_45}},
    }
    conversion = models_dev.convert(
        json.loads(json.dumps(document), parse_float=Decimal), today=TODAY
    )
    gpt, haiku = (model.config for model in conversion.models)
    assert gpt.input_modalities == ("image", "pdf", "text")
    assert gpt.output_modalities == ("text",)
    assert gpt.release_date == "2024-05-13"
    assert gpt.knowledge_cutoff == "2023-09"  # a month stays a month
    assert gpt.open_weights is False
    assert gpt.mode is None  # models.dev gives no mode
    # An impossible date is dropped, reported, and the model kept.
    assert haiku.knowledge_cutoff is None
    assert haiku.release_date == "2025-11-18"
    assert [(d.model_id, d.reason) for d in conversion.dropped] == [
        (
            "azure/claude-haiku-4-5",
            "knowledge dropped: not a date YYYY-MM-DD or a month YYYY-MM",
        )
    ]


def test_openrouter_maps_architecture_modalities_and_its_file_is_pdf() -> None:
    entry = {
        "id": "google/gemini-2.5-flash",
        "name": "Google: Gemini 2.5 Flash",
        "context_length": 1048576,
        "architecture": {
            "modality": "text+image+file+audio+video->text",
            "input_modalities": ["file", "image", "text", "audio", "video"],
            "output_modalities": ["text"],
            "tokenizer": "Gemini",
        },
        "pricing": {"prompt": "0.0000003", "completion": "0.0000025"},
        "top_provider": {"context_length": 1048576, "max_completion_tokens": 65535},
        "supported_parameters": ["tools"],
    }
    conversion = openrouter.convert({"data": [entry]}, today=TODAY)
    (model,) = conversion.models
    assert model.config.input_modalities == ("audio", "image", "pdf", "text", "video")
    assert model.config.output_modalities == ("text",)


def test_the_sync_manages_the_fields_flattened_and_back() -> None:
    (model,) = litellm.convert({"gemini/gemini-2.5-flash": GEMINI_25_FLASH}, today=TODAY).models
    fields = flatten(model.config, None)
    assert fields["input_modalities"] == "audio,image,text,video"
    assert fields["mode"] == "chat"
    assert fields["open_weights"] is None
    # Unknown modalities flatten to None, as a base synced before the fields existed reads.
    bare = model.config.model_copy(update={"input_modalities": ()})
    assert flatten(bare, None)["input_modalities"] is None
    back, _ = apply_fields(bare, None, {"input_modalities": "image,text", "mode": "responses"})
    assert back.input_modalities == ("image", "text")
    assert back.mode == "responses"
