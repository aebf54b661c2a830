"""Importing and exporting catalog files on both backends: all or nothing, round trips."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
import yaml

from cases import GPT4_TURBO, config, snapshot
from modelregistry import InvalidCatalogFileError, ModelConfig, ModelRegistry
from modelregistry.domain.documents import dump_catalog
from modelregistry.domain.history import ChangeKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import sqlalchemy as sa


pytestmark = pytest.mark.both_apis


def catalog_of(size: int) -> list[ModelConfig]:
    """Ids shaped like a real catalog's: slashes, colons, at signs and dots."""
    shapes = ["bedrock/us-east-1/vendor.model-{n}:0", "vertex_ai/model-{n}@2024", "ft:gpt:{n}"]
    return [
        ModelConfig(
            **config(
                model_id=shapes[n % 3].format(n=n),
                provider=["bedrock", "vertex_ai", "openai"][n % 3],
                context_window=1000 + n,
                cost_per_1m_input_tokens=round(n * 0.001, 3),
                capabilities={"supports_streaming": True, "supports_reasoning": n % 2 == 0},
            )
        )
        for n in range(size)
    ]


def test_import_adds_changes_and_leaves_alone(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register_model(GPT4_TURBO)
    path = tmp_path / "catalog.yaml"
    path.write_text(
        dump_catalog(
            [
                ModelConfig(**config(context_window=64000)),
                ModelConfig(**config(model_id="o1", capabilities={"supports_reasoning": True})),
                registry.get_model_or_raise("llama3.1:8b"),
            ],
            "yaml",
        )
    )
    result = registry.import_catalog(path, actor="ci", reason="weekly sync")
    assert (result.added, result.changed, result.unchanged, result.removed) == (
        ["o1"],
        ["gpt-4-turbo"],
        ["llama3.1:8b"],
        [],
    )
    assert registry.get_model_or_raise("gpt-4-turbo").context_window == 64000
    assert registry.get_model_or_raise("gpt-4-turbo").version == 2
    assert registry.get_model_or_raise("llama3.1:8b").version == 1
    last = registry.get_model_history("o1")[-1]
    assert (last.change, last.actor, last.reason) == (ChangeKind.CREATED, "ci", "weekly sync")
    assert registry.get_model("llama3.2:3b") is not None  # no prune: others stay


def test_prune_removes_what_the_file_lacks(registry: ModelRegistry) -> None:
    result = registry.import_catalog({"models": [GPT4_TURBO]}, prune=True)
    assert result.removed == ["llama3.1:8b", "llama3.2:3b", "llava-llama3:latest"]
    assert [m.model_id for m in registry.list_models()] == ["gpt-4-turbo"]
    assert registry.get_model_history("llama3.1:8b")[-1].change is ChangeKind.REMOVED


def test_dry_run_writes_nothing(registry: ModelRegistry, raw_engine: sa.Engine) -> None:
    before = snapshot(raw_engine)
    result = registry.import_catalog({"models": [GPT4_TURBO]}, prune=True, dry_run=True)
    assert (result.added, result.removed, result.dry_run) == (
        ["gpt-4-turbo"],
        ["llama3.1:8b", "llama3.2:3b", "llava-llama3:latest"],
        True,
    )
    assert snapshot(raw_engine) == before


def test_an_invalid_file_changes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        dump_catalog([ModelConfig(**GPT4_TURBO)], "json").replace(
            '"context_window": 128000', '"context_window": -1'
        )
    )
    before = snapshot(raw_engine)
    with pytest.raises(InvalidCatalogFileError) as raised:
        registry.import_catalog(path, prune=True)
    assert [v.field for v in raised.value.violations] == ["models[0](gpt-4-turbo).context_window"]
    assert snapshot(raw_engine) == before


def test_export_then_import_into_an_empty_database_gives_the_same_catalog(
    open_registry: Callable[..., ModelRegistry], registry: ModelRegistry, tmp_path: Path
) -> None:
    for model in catalog_of(30):
        registry.register_model(model)
    registry.update_model_status("ft:gpt:2", "deprecated")
    for kind in ("yaml", "json"):
        path = tmp_path / f"export.{kind}"
        text = registry.export_catalog(path)
        assert path.read_text() == text
        with open_registry("sqlite://") as empty:
            empty.import_catalog(path, prune=True)
            assert empty.list_models() == registry.list_models()
    only = yaml.safe_load(registry.export_catalog(provider="bedrock", status="active"))
    assert {m["provider"] for m in only["models"]} == {"bedrock"}
    assert only["schema_version"] == 2


@pytest.mark.slow
def test_a_real_sized_catalog_imports_in_one_transaction(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    models = catalog_of(3000)
    path = tmp_path / "big.yaml"
    path.write_text(dump_catalog(models, "yaml"))
    seen: list[tuple[int, int]] = []
    started = time.perf_counter()
    result = registry.import_catalog(path, progress=lambda done, total: seen.append((done, total)))
    elapsed = time.perf_counter() - started
    print(f"imported 3000 models in {elapsed:.2f} s")  # noqa: T201 - a figure, not a bound
    assert len(result.added) == 3000
    assert seen[-1] == (3000, 3000)
    assert registry.get_stats()["total_models"] == 3003
    again = registry.import_catalog(path)
    assert len(again.unchanged) == 3000
