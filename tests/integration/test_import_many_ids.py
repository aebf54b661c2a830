"""Imports of more ids than one IN list holds: the lookups by id see every one of them.

On PostgreSQL the ids go as one array parameter (``= ANY``), on SQLite in IN lists of 500;
both must find each model's version, key and prices, whatever the count.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cases import config

if TYPE_CHECKING:
    from modelregistry import ModelRegistry


def test_a_second_import_of_1200_models_finds_every_version_and_price(
    registry: ModelRegistry,
) -> None:
    ids = [f"bulk/model-{number:04d}" for number in range(1200)]
    registry.import_catalog({"models": [config(model_id=model_id) for model_id in ids]})
    changed = [
        config(model_id=model_id, context_window=64_000, cost_per_1m_input_tokens=7)
        for model_id in ids
    ]
    result = registry.import_catalog({"models": changed})

    assert sorted(result.changed) == ids
    for model_id in (ids[0], ids[499], ids[500], ids[1199]):
        model = registry.get_model_or_raise(model_id)
        assert model.version == 2
        assert model.context_window == 64_000
        assert [price.input_per_1m for price in registry.get_price_history(model_id)][-1] == (
            Decimal(7)
        )
