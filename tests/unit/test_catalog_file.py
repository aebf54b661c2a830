"""Catalog files: parsed safely, validated completely, written back exactly."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from cases import GPT4_TURBO, config
from modelregistry import InvalidCatalogFileError, ModelConfig
from modelregistry.domain.documents import (
    MAX_FILE_BYTES,
    dump_catalog,
    parse_catalog,
    plan_import,
)
from modelregistry.service.catalog_files import read_catalog_file

if TYPE_CHECKING:
    from pathlib import Path


def problems(error: InvalidCatalogFileError) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in error.violations]


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_a_dumped_catalog_reads_back_field_for_field(tmp_path: Path, suffix: str) -> None:
    models = [
        ModelConfig(**GPT4_TURBO),
        ModelConfig(
            **config(
                model_id="bedrock/us-east-1/anthropic.claude-3-opus:0",
                provider="bedrock",
                capabilities={"supports_reasoning": True},
                cost_per_1m_input_tokens=0.0000000001,
                retirement_date="2027-01-31",
                successor_model_id="vertex_ai/claude-3-opus@20240229",
            )
        ),
    ]
    path = tmp_path / f"catalog{suffix}"
    path.write_text(dump_catalog(models, "json" if suffix == ".json" else "yaml"))
    assert read_catalog_file(path) == models


def test_schema_version_is_optional_on_import() -> None:
    assert parse_catalog({"models": [GPT4_TURBO]}) == [ModelConfig(**GPT4_TURBO)]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidCatalogFileError) as raised:
        parse_catalog(
            {
                "schema_version": 1,
                "models": [
                    GPT4_TURBO,
                    config(model_id="bad id", context_window=0),
                    {"provider": "x"},
                    GPT4_TURBO,
                    "not a mapping",
                ],
            }
        )
    assert raised.value.code == "E4005"
    found = problems(raised.value)
    assert ("models[1](bad id).model_id", found[0][1]) in found
    assert any(field == "models[1](bad id).context_window" for field, _ in found)
    assert ("models[2].model_id", "is required") in found
    assert ("models[3](gpt-4-turbo)", "repeats the model_id of models[0]") in found
    assert any(field == "models[4]" for field, _ in found)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], ""),
        ({"models": {"a": 1}}, "models"),
        ({"schema_version": 3, "models": []}, "schema_version"),
        ({"schema_version": True, "models": []}, "schema_version"),
        ({"models": [], "extra": 1}, "extra"),
    ],
)
def test_structural_problems_are_named(data: object, field: str) -> None:
    with pytest.raises(InvalidCatalogFileError) as raised:
        parse_catalog(data)
    assert field in [v.field for v in raised.value.violations]


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        ("aliases.yaml", "a: &x [1, 2]\nmodels: *x\n", "aliases"),
        ("laughs.yaml", "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nmodels: []\n", "aliases"),
        ("dup.yaml", "models: []\nmodels: []\n", "duplicate key 'models'"),
        ("dup.json", '{"models": [], "models": []}', "duplicate key 'models'"),
        ("syntax.yaml", "models: [\n", "not valid YAML"),
        ("syntax.json", '{"models": [', "not valid JSON"),
        ("python.yaml", "models: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ("catalog.toml", "models = []", ".yaml, .yml or .json"),
        ("latin1.yaml", "models: []\n# \xe9\n", "cannot read"),
    ],
)
def test_hostile_or_broken_files_are_refused_clearly(
    tmp_path: Path, name: str, text: str, rule: str
) -> None:
    path = tmp_path / name
    encoding = "latin-1" if name.startswith("latin1") else "utf-8"
    path.write_text(text, encoding=encoding)
    with pytest.raises(InvalidCatalogFileError, match="E4005") as raised:
        read_catalog_file(path)
    assert rule in str(raised.value)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(InvalidCatalogFileError, match="larger than"):
        read_catalog_file(path)


def test_plan_sorts_entries_by_what_would_happen() -> None:
    current = {
        "a": ModelConfig(**config(model_id="a")),
        "b": ModelConfig(**config(model_id="b")),
        "c": ModelConfig(**config(model_id="c")),
    }
    wanted = [
        ModelConfig(**config(model_id="d")),
        ModelConfig(**config(model_id="b", context_window=1)),
        ModelConfig(**config(model_id="a")),
    ]
    plan = plan_import(current, wanted, prune=True, dry_run=True)
    assert (plan.added, plan.changed, plan.unchanged, plan.removed) == (["d"], ["b"], ["a"], ["c"])
    assert plan.summary() == "added 1, changed 1, unchanged 1, removed 1 (dry run: nothing written)"
    assert json.loads(json.dumps(plan.to_dict()))["removed"] == ["c"]
    assert plan_import(current, wanted, prune=False, dry_run=False).removed == []
