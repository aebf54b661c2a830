"""YAML catalog files read plain scalars by YAML 1.2's core schema, not PyYAML's YAML 1.1.

Under YAML 1.1 ``1e-11`` is a string (so a price written that way was refused), while ``yes``,
``on``, ``1_000``, ``0b11`` and ``017`` (octal) are booleans and integers (so a display name
``yes`` was refused and ``context_window: 1_000`` silently accepted). Files are imported
through the registry on both engines and read back from the database.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from cases import database_dump
from modelregistry import InvalidCatalogFileError, ModelRegistry

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability

HEAD = "schema_version: 1\nmodels:\n"


def _entry(model_id: str, **fields: str) -> str:
    values = {"provider": "p", "context_window": "1000", "max_output_tokens": "100", **fields}
    lines = [f"  - model_id: {model_id}", *(f"    {key}: {value}" for key, value in values.items())]
    return "\n".join(lines) + "\n"


def test_core_schema_numbers_and_strings_are_read_as_yaml_1_2_says(
    registry: ModelRegistry, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "core.yaml"
    path.write_text(
        HEAD
        + _entry("exp", cost_per_1m_input_tokens="2.5e-6", cost_per_1m_output_tokens="1E+1")
        + _entry("yes", display_name="yes", context_window="017", max_output_tokens="0o17")
        + _entry("on", display_name="on", context_window="0x400")
        + _entry("underscore", display_name="1_000")
        + _entry("binary", display_name="0b11")
        + _entry("score", quality_scores="{coding: 5e-1, reasoning: .25}"),
        encoding="utf-8",
    )
    registry.import_catalog(path)
    with ModelRegistry(database_url, cache=False) as direct:
        for reader in (registry, direct):
            exp = reader.get_model_or_raise("exp")
            assert exp.cost_per_1m_input_tokens == pytest.approx(2.5e-6)
            assert exp.cost_per_1m_output_tokens == 10  # 1E+1
            yes = reader.get_model_or_raise("yes")
            assert yes.display_name == "yes"
            assert yes.context_window == 17  # decimal, not octal
            assert yes.max_output_tokens == 15  # 0o17
            on = reader.get_model_or_raise("on")
            assert (on.display_name, on.context_window) == ("on", 1024)
            assert reader.get_model_or_raise("underscore").display_name == "1_000"
            assert reader.get_model_or_raise("binary").display_name == "0b11"
            scores = reader.get_model_or_raise("score").quality_scores
            assert (scores.coding, scores.reasoning) == (0.5, 0.25)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("context_window", "1_000"),
        ("max_output_tokens", "0b11"),
        ("rate_limit_rpm", "0b1010"),
        ("capabilities", "{supports_vision: on}"),
        ("capabilities", "{supports_vision: yes}"),
        ("capabilities", "{supports_vision: n}"),
        ("latency_p50_ms", "1:30"),  # YAML 1.1's base 60
    ],
)
def test_yaml_1_1_booleans_and_integers_are_strings_and_refused_where_a_number_is_due(
    registry: ModelRegistry, database_url: str, tmp_path: Path, field: str, value: str
) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(HEAD + _entry("a", **{field: value}), encoding="utf-8")
    before = database_dump(database_url)
    with pytest.raises(InvalidCatalogFileError) as raised:
        registry.import_catalog(path)
    assert raised.value.violations[0].field.startswith(f"models[0](a).{field}")
    assert database_dump(database_url) == before


def test_strings_that_look_like_core_schema_values_round_trip_through_export(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    names = ["1e-11", "0o17", "0x1F", ".5", "017", "yes", "True", "null", "~", "2027-01-01"]
    for index, name in enumerate(names):
        registry.register_model(
            {
                "model_id": f"look-alike-{index}",
                "provider": "p",
                "display_name": name,
                "context_window": 1000,
                "max_output_tokens": 100,
            }
        )
    for suffix in ("yaml", "json"):
        path = tmp_path / f"export.{suffix}"
        registry.export_catalog(path)
        with ModelRegistry("sqlite://") as copy:
            copy.import_catalog(path, prune=True)
            assert copy.list_models() == registry.list_models()
            shown = [copy.get_model_or_raise(f"look-alike-{i}").display_name for i in range(10)]
            assert shown == names, json.dumps(shown)
