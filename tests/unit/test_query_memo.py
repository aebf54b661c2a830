"""find_models' memos: checked arguments remembered per process, answers per snapshot.

A remembered answer must never outlive its snapshot, and remembering must never turn a
refused argument into an accepted one (``True`` equals ``1`` and hashes like it).
"""

from __future__ import annotations

import pytest

from cases import config
from modelregistry import InvalidArgumentError, ModelConfig, ModelStatus
from modelregistry.cache.snapshot import Snapshot
from modelregistry.domain.query import build_query, remembered_query


def _arguments(**changes: object) -> tuple[object, ...]:
    values: dict[str, object] = {
        "capabilities": (),
        "any_capabilities": (),
        "providers": None,
        "statuses": (ModelStatus.ACTIVE,),
        "min_context_window": None,
        "min_max_output_tokens": None,
        "max_cost_per_1m_input": None,
        "max_cost_per_1m_output": None,
        "min_quality": None,
        "max_latency_p50_ms": None,
        "order_by": None,
        "limit": None,
        "input_modalities": (),
        "output_modalities": (),
        "mode": None,
        "open_weights": None,
        "tags": None,
    }
    return tuple({**values, **changes}.values())


def test_a_remembered_query_equals_the_checked_one_and_is_reused() -> None:
    arguments = _arguments(capabilities=["vision"], min_quality={"coding": 0.5}, limit=3)
    first = remembered_query(*arguments)
    assert (
        remembered_query(*_arguments(capabilities=["vision"], min_quality={"coding": 0.5}, limit=3))
        is first
    )
    checked = build_query(
        capabilities=["vision"],
        any_capabilities=(),
        providers=None,
        statuses=(ModelStatus.ACTIVE,),
        min_context_window=None,
        min_max_output_tokens=None,
        max_cost_per_1m_input=None,
        max_cost_per_1m_output=None,
        min_quality={"coding": 0.5},
        max_latency_p50_ms=None,
        order_by=None,
        limit=3,
    )
    assert first == checked


@pytest.mark.parametrize(
    ("accepted", "refused", "field"),
    [
        ({"limit": 1}, {"limit": True}, "limit"),
        ({"min_context_window": 1}, {"min_context_window": True}, "min_context_window"),
        ({"min_quality": {"coding": 1}}, {"min_quality": {"coding": True}}, "min_quality.coding"),
        ({"max_cost_per_1m_input": 0.0}, {"max_cost_per_1m_input": False}, "max_cost_per_1m_input"),
        ({"open_weights": True}, {"open_weights": 1}, "open_weights"),
        ({"tags": {"tier": "1"}}, {"tags": {"tier": 1}}, "tags"),
        ({"mode": "chat"}, {"mode": "chat2"}, "mode"),
        ({"input_modalities": ["image"]}, {"input_modalities": ["smell"]}, "input_modalities"),
    ],
)
def test_a_refused_argument_stays_refused_after_an_equal_one_was_remembered(
    accepted: dict[str, object], refused: dict[str, object], field: str
) -> None:
    remembered_query(*_arguments(**accepted))
    with pytest.raises(InvalidArgumentError) as raised:
        remembered_query(*_arguments(**refused))
    assert raised.value.violations[0].field == field


def test_unhashable_or_unusual_arguments_are_checked_every_time() -> None:
    names = iter(["vision"])  # a one-shot iterator: remembering must not consume it
    query = remembered_query(*_arguments(capabilities=names))
    assert query.capabilities == frozenset({"vision"})
    with pytest.raises(InvalidArgumentError):
        remembered_query(*_arguments(capabilities="vision"))  # a single string, refused


def test_a_list_changed_after_it_was_remembered_gives_the_new_query() -> None:
    names = ["vision"]
    first = remembered_query(*_arguments(capabilities=names))
    names.append("tool_use")
    second = remembered_query(*_arguments(capabilities=names))
    assert first.capabilities == frozenset({"vision"})
    assert second.capabilities == frozenset({"vision", "tool_use"})


@pytest.mark.parametrize(
    "refused",
    [
        {"capabilities": ("vision", 1)},  # a tuple holding a non-name
        {"statuses": [ModelStatus.ACTIVE, 2]},
        {"limit": 2.5},
    ],
)
def test_arguments_of_the_wrong_kind_are_refused_even_beside_remembered_ones(
    refused: dict[str, object],
) -> None:
    remembered_query(*_arguments(capabilities=("vision",), statuses=[ModelStatus.ACTIVE], limit=2))
    with pytest.raises(InvalidArgumentError):
        remembered_query(*_arguments(**refused))


def test_a_snapshot_remembers_answers_and_its_successor_does_not_inherit_them() -> None:
    cheap = ModelConfig(**config(model_id="cheap", cost_per_1m_input_tokens=1.0))
    dear = ModelConfig(**config(model_id="dear", cost_per_1m_input_tokens=9.0))
    snapshot = Snapshot(1, {"cheap": cheap, "dear": dear})
    query = remembered_query(*_arguments(order_by="-cost_per_1m_input_tokens"))
    assert [m.model_id for m in snapshot.find(query)] == ["dear", "cheap"]
    answer = snapshot.find(query)
    answer.clear()  # a caller's list: changing it changes nothing remembered
    assert [m.model_id for m in snapshot.find(query)] == ["dear", "cheap"]
