"""An import's revision documents, stored as JSON text by every bulk path, read back as given.

A bulk write serialises each revision's config with pydantic (``model_dump_json``) and hands
the text to the driver: COPY on PostgreSQL (from 100 rows), an INSERT's executemany below
that and under AsyncModelRegistry (which parse it back first), sqlite3's executemany on
SQLite. Whichever path, the stored document is the config's JSON form, and the history reads
back the config that was imported (non-ASCII text, quotes, tags and dates included).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from cases import config
from modelregistry import ModelConfig

if TYPE_CHECKING:
    from modelregistry import ModelRegistry

pytestmark = pytest.mark.both_apis


def _entries(count: int) -> list[dict[str, Any]]:
    return [
        config(
            model_id=f"docs/model-{number:04d}",
            display_name=f'Modèle «{number}» "quoted" \\ back',
            tags={"team": "sécurité", "tier": str(number % 3)},
            deprecation_date=f"2031-01-0{1 + number % 9}",
            cost_per_1m_input_tokens=round(0.1 + number / 1000, 4),
        )
        for number in range(count)
    ]


@pytest.mark.parametrize("count", [2, 150], ids=["executemany", "copy"])
def test_imported_revision_documents_read_back_as_the_configs(
    registry: ModelRegistry, raw_engine: sa.Engine, count: int
) -> None:
    entries = _entries(count)
    registry.import_catalog({"models": entries})

    expected = {entry["model_id"]: ModelConfig.model_validate(entry) for entry in entries}
    with raw_engine.connect() as connection:
        stored = connection.execute(
            sa.text(
                "SELECT model_id, config FROM model_revisions WHERE model_id LIKE 'docs/%'"
                " ORDER BY model_id"
            )
        ).all()
    assert [model_id for model_id, _ in stored] == sorted(expected)
    for model_id, document in stored:
        parsed = json.loads(document) if isinstance(document, str) else document
        assert parsed == expected[model_id].model_dump(mode="json"), model_id
    for model_id in (entries[0]["model_id"], entries[-1]["model_id"]):
        (revision,) = registry.get_model_history(model_id)
        assert revision.config == expected[model_id].with_version(1)
