"""Issue 17's model fields, stored and read back on both engines, cached and uncached.

Modalities, mode, release date and knowledge cutoff, open weights and tags: written, changed
(a revision like any other field: history and as-of reads show it), removed with the model,
exported and imported losslessly, and visible in the ``model_catalog`` view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cases import config
from modelregistry import InvalidModelConfigError, ModelConfig, ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.both_apis

DESCRIBED = config(
    model_id="eu-vision",
    input_modalities=["text", "image", "pdf", "image"],
    output_modalities=["text"],
    mode="chat",
    release_date="2024-05-13",
    knowledge_cutoff="2023-10",
    open_weights=False,
    tags={"team": "ml-platform", "residency": "eu"},
)


@pytest.fixture(params=["cached", "sql"])
def catalog(
    open_registry: Callable[..., ModelRegistry], request: pytest.FixtureRequest, database_url: str
) -> Iterator[ModelRegistry]:
    with open_registry(database_url, cache=request.param == "cached") as registry:
        yield registry


def test_fields_round_trip_normalised_and_unknown_by_default(catalog: ModelRegistry) -> None:
    stored = catalog.register_model(DESCRIBED)
    read = catalog.get_model_or_raise("eu-vision")
    assert read == stored == ModelConfig(**DESCRIBED)
    assert read.input_modalities == ("image", "pdf", "text")  # sorted, each once
    assert read.mode == "chat"
    assert (read.release_date, read.knowledge_cutoff) == ("2024-05-13", "2023-10")
    assert read.open_weights is False
    assert list(read.tags.items()) == [("residency", "eu"), ("team", "ml-platform")]
    # The seed's models (and any model that does not say) know nothing of these fields.
    seeded = catalog.get_model_or_raise("llama3.1:8b")
    assert (seeded.input_modalities, seeded.output_modalities, seeded.mode) == ((), (), None)
    assert (seeded.release_date, seeded.knowledge_cutoff, seeded.open_weights) == (None,) * 3
    assert seeded.tags == {}


def test_a_change_is_a_revision_and_as_of_reads_show_the_old_values(
    catalog: ModelRegistry,
) -> None:
    first = catalog.register_model(DESCRIBED)
    changed = catalog.register_model(
        {
            **DESCRIBED,
            "input_modalities": ["text"],
            "tags": {"residency": "us", "owner": "search"},
            "open_weights": None,
        },
        expected_version=first.version,
    )
    assert changed.version == 2
    assert catalog.get_model_or_raise("eu-vision").tags == {"owner": "search", "residency": "us"}
    history = catalog.get_model_history("eu-vision")
    assert [revision.config.tags for revision in history] == [
        {"residency": "eu", "team": "ml-platform"},
        {"owner": "search", "residency": "us"},
    ]
    changes = {change.field for change in catalog.diff_versions("eu-vision", 1, 2)}
    assert {"input_modalities", "open_weights", "tags.residency", "tags.team"} <= changes
    before = catalog.get_model_or_raise("eu-vision", as_of=history[0].changed_at)
    assert before == ModelConfig(**DESCRIBED)
    assert catalog.find_models(tags={"residency": "eu"}) == []
    assert [m.model_id for m in catalog.find_models(tags={"owner": "search"})] == ["eu-vision"]


def test_bad_fields_are_refused_naming_them_and_nothing_changes(catalog: ModelRegistry) -> None:
    catalog.register_model(DESCRIBED)
    for field, value in (
        ("input_modalities", ["hologram"]),
        ("tags", {"residency": " eu"}),
        ("knowledge_cutoff", "2023-13"),
        ("mode", "telepathy"),
    ):
        with pytest.raises(InvalidModelConfigError) as raised:
            catalog.register_model({**DESCRIBED, field: value})
        assert raised.value.code == "E4003"
        assert raised.value.violations[0].field == field
    assert catalog.get_model_or_raise("eu-vision").version == 1


def test_export_and_import_carry_the_fields_losslessly(
    catalog: ModelRegistry, tmp_path: Path
) -> None:
    catalog.register_model(DESCRIBED)
    catalog.export_catalog(tmp_path / "catalog.yaml")
    text = (tmp_path / "catalog.yaml").read_text(encoding="utf-8")
    assert "knowledge_cutoff: 2023-10" in text
    catalog.remove_model("eu-vision")
    assert catalog.get_model("eu-vision") is None
    catalog.import_catalog(tmp_path / "catalog.yaml")
    assert catalog.get_model_or_raise("eu-vision") == ModelConfig(**DESCRIBED)


def test_tags_go_with_a_removed_model_and_the_catalog_view_shows_the_fields(
    catalog: ModelRegistry, raw_engine: sa.Engine
) -> None:
    catalog.register_model(DESCRIBED)
    with raw_engine.connect() as connection:
        row = (
            connection.execute(
                sa.text(
                    "SELECT input_modalities, output_modalities, mode, release_date, "
                    "knowledge_cutoff, open_weights, tags FROM model_catalog "
                    "WHERE model_id = 'eu-vision'"
                )
            )
            .mappings()
            .one()
        )
    assert dict(row) == {
        "input_modalities": "image,pdf,text",
        "output_modalities": "text",
        "mode": "chat",
        "release_date": "2024-05-13",
        "knowledge_cutoff": "2023-10",
        "open_weights": False,
        "tags": "residency=eu;team=ml-platform",
    }
    catalog.remove_model("eu-vision")
    with raw_engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM model_tags")).scalar_one() == 0
