"""A repeated find_models query is answered anew once the catalog changed (both engines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cases import config

if TYPE_CHECKING:
    from modelregistry import ModelRegistry


def test_the_registry_answers_a_repeated_query_anew_after_each_change(
    registry: ModelRegistry,
) -> None:
    registry.register_model(config(model_id="x", provider="p", cost_per_1m_input_tokens=0.5))

    def found() -> list[str]:
        return [m.model_id for m in registry.find_models(providers=["p"], order_by="cost")]

    assert found() == ["x"]
    registry.update_model_status("x", "deprecated")
    assert found() == []
    registry.update_model_status("x", "active")
    assert found() == ["x"]
