"""The sync plan as a pure function: three-way merge, protected edits, holds, guards,
tombstones and the removal policies."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from modelregistry import InvalidModelConfigError, Rate, SyncRefusedError
from modelregistry.domain.models import ModelConfig
from modelregistry.domain.upstream.convert import Conversion, InvalidEntry, UpstreamModel
from modelregistry.domain.upstream.fields import flatten, parse_rates, rates_text
from modelregistry.domain.upstream.plan import (
    Base,
    OnRemoved,
    SyncOptions,
    SyncPlan,
    hold_rule,
    plan_sync,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

KIND = "litellm"


def model(model_id: str, **fields: Any) -> ModelConfig:
    return ModelConfig(
        **{
            "model_id": model_id,
            "provider": "openai",
            "context_window": 1000,
            "max_output_tokens": 100,
            "cost_per_1m_input_tokens": 1.0,
            "cost_per_1m_output_tokens": 2.0,
            "capabilities": {"supports_streaming": True, "supports_vision": True},
            **fields,
        }
    )


def upstream(*models: ModelConfig, filler: int = 60) -> Conversion:
    pad = [model(f"pad/{n}") for n in range(filler)]
    return Conversion([UpstreamModel(m) for m in (*models, *pad)], [InvalidEntry("x", "bad")])


def synced(
    *models: ModelConfig,
) -> tuple[dict[str, tuple[ModelConfig, Decimal | None]], dict[str, Base]]:
    """A catalog holding ``models`` (and the filler), each synced with exactly these values."""
    everything = [*models, *(model(f"pad/{n}") for n in range(60))]
    current: dict[str, tuple[ModelConfig, Decimal | None]] = {
        m.model_id: (m, None) for m in everything
    }
    bases = {m.model_id: Base(KIND, flatten(m, None)) for m in everything}
    return current, bases


def plan(
    source: Conversion,
    current: Mapping[str, tuple[ModelConfig, Decimal | None]],
    bases: Mapping[str, Base],
    removed: set[str] | None = None,
    **options: Any,
) -> SyncPlan:
    return plan_sync(
        KIND,
        source,
        current,
        bases=bases,
        removed_locally=removed or set(),
        options=SyncOptions(**options),
    )


def test_new_model_is_added_with_its_base_and_invalid_entries_are_listed() -> None:
    result = plan(upstream(model("a")), {}, {})
    assert "a" in result.added
    assert result.bases["a"] == flatten(model("a"), None)
    assert result.writes["a"] == (model("a"), None)
    assert [i.model_id for i in result.invalid] == ["x"]


def test_upstream_change_of_an_unedited_field_is_an_update_with_old_and_new() -> None:
    current, bases = synced(model("a"))
    result = plan(
        upstream(model("a", display_name="A", cost_per_1m_input_tokens=1.5)), current, bases
    )
    assert [(u.model_id, u.fields) for u in result.updated] == [
        ("a", {"display_name": ("a", "A"), "cost_per_1m_input_tokens": ("1", "1.5")})
    ]
    assert result.writes["a"][0].display_name == "A"
    assert result.unchanged == 60
    assert result.bases["a"]["display_name"] == "A"


def test_local_edit_is_never_overwritten_and_protected_only_when_upstream_moved() -> None:
    current, bases = synced(model("a"), model("b"))
    current["a"] = (model("a", display_name="Mine", context_window=2000), None)
    current["b"] = (model("b", display_name="Mine too"), None)
    result = plan(upstream(model("a", display_name="Theirs"), model("b")), current, bases)
    assert [p.to_dict() for p in result.protected] == [
        {"model_id": "a", "field": "display_name", "local": "Mine", "upstream": "Theirs"}
    ]
    assert "a" not in result.writes
    assert "b" not in result.writes
    assert result.bases["a"]["display_name"] == "Theirs"  # the base follows upstream


def test_model_without_a_base_keeps_its_values_unless_adopted() -> None:
    current = {"a": (model("a", display_name="Local"), None)}
    source = upstream(model("a", display_name="Upstream"))
    result = plan(source, current, {})
    assert [(p.field, p.local, p.upstream) for p in result.protected] == [
        ("display_name", "Local", "Upstream")
    ]
    assert "a" not in result.writes
    assert result.bases["a"]["display_name"] == "Upstream"
    adopted = plan(source, current, {}, adopt=True)
    assert adopted.writes["a"][0].display_name == "Upstream"
    assert adopted.protected == []


def test_a_base_from_another_source_is_no_base_for_this_one() -> None:
    current, bases = synced(model("a"))
    bases["a"] = Base("models.dev", bases["a"].fields)
    result = plan(upstream(model("a", display_name="Other")), current, bases)
    assert [p.field for p in result.protected] == ["display_name"]


@pytest.mark.parametrize(
    ("name", "old", "new", "rule"),
    [
        ("cost_per_1m_input_tokens", "1", "10.0001", "price moves more than 10x"),
        ("cost_per_1m_input_tokens", "1", "10", None),
        ("cost_per_1m_output_tokens", "2", "0.19", "price moves more than 10x"),
        ("cost_per_1m_output_tokens", "2", "0.2", None),
        ("cost_per_1m_input_tokens", "1", "0", "price crosses zero"),
        ("cost_per_1m_input_tokens", "0", "1", "price crosses zero"),
        ("cached_input_per_1m", "1", "0", "price crosses zero"),
        ("cached_input_per_1m", None, "1", None),
        ("context_window", 1000, 999, "context_window shrinks"),
        ("context_window", 1000, 5000, None),
        ("max_output_tokens", 100, 50, "max_output_tokens shrinks"),
        ("supports_vision", True, False, "capability turns off"),
        ("supports_vision", False, True, None),
        ("display_name", "a", "b", None),
    ],
)
def test_hold_rules(name: str, old: object, new: object, rule: str | None) -> None:
    assert hold_rule(name, old, new) == rule  # type: ignore[arg-type]


def test_held_change_is_listed_not_applied_and_held_again_next_time() -> None:
    current, bases = synced(model("a"))
    source = upstream(model("a", context_window=500, capabilities={"supports_streaming": True}))
    result = plan(source, current, bases)
    assert {(h.field, h.old, h.new, h.rule) for h in result.held} == {
        ("context_window", 1000, 500, "context_window shrinks"),
        ("supports_vision", True, False, "capability turns off"),
    }
    assert "a" not in result.writes
    assert result.bases["a"]["context_window"] == 1000  # the base keeps the old value
    accepted = plan(source, current, bases, accept_held=True)
    assert accepted.held == []
    assert accepted.writes["a"][0].context_window == 500
    assert not accepted.writes["a"][0].capabilities.supports_vision


def test_new_models_are_never_held() -> None:
    result = plan(upstream(model("a", cost_per_1m_input_tokens=0.0, context_window=1)), {}, {})
    assert result.held == []
    assert "a" in result.added


def test_guard_refuses_fewer_than_fifty_valid_models_unless_forced() -> None:
    with pytest.raises(SyncRefusedError, match="49 valid models, fewer than 50") as caught:
        plan(upstream(filler=49), {}, {})
    assert caught.value.code == "E4040"
    assert len(plan(upstream(filler=49), {}, {}, force=True).added) == 49


def test_guard_refuses_fewer_than_half_of_the_models_synced_from_the_source() -> None:
    everything = {f"m/{n}": (model(f"m/{n}"), None) for n in range(200)}
    bases = {key: Base(KIND, flatten(config, None)) for key, (config, _) in everything.items()}
    with pytest.raises(SyncRefusedError, match="fewer than half of the 200"):
        plan(upstream(filler=99), everything, bases)
    assert plan(upstream(filler=100), everything, bases).unchanged == 0  # 100 = half: allowed
    # Bases of another source, or of models no longer in the catalog, do not count.
    others = {key: Base("models.dev", base.fields) for key, base in bases.items()}
    assert plan(upstream(filler=60), everything, others).added


def test_model_removed_locally_stays_removed_unless_restore_removed() -> None:
    current, bases = synced()
    result = plan(upstream(model("gone")), current, bases, removed={"gone"})
    assert result.skipped_removed_locally == ["gone"]
    assert "gone" not in result.writes
    restored = plan(upstream(model("gone")), current, bases, removed={"gone"}, restore_removed=True)
    assert "gone" in restored.added


def test_model_the_sync_removed_comes_back_when_upstream_has_it_again() -> None:
    current, bases = synced()
    bases["back"] = Base(KIND, flatten(model("back"), None), removed_by_sync=True)
    result = plan(upstream(model("back")), current, bases, removed={"back"})
    assert "back" in result.added


@pytest.mark.parametrize("policy", list(OnRemoved))
def test_model_gone_upstream_is_listed_and_kept_deprecated_or_removed(policy: OnRemoved) -> None:
    current, bases = synced(model("gone"), model("stays"))
    result = plan(upstream(model("stays")), current, bases, on_removed=policy)
    assert result.removed_upstream == ["gone"]
    if policy is OnRemoved.KEEP:
        assert "gone" not in result.writes
        assert result.removals == []
    elif policy is OnRemoved.DEPRECATE:
        assert result.writes["gone"][0].status == "deprecated"
    else:
        assert result.removals == ["gone"]


def test_cached_input_price_is_a_managed_field() -> None:
    current, bases = synced(model("a"))
    source = Conversion([UpstreamModel(model("a"), Decimal("0.5")), *upstream().models], [])
    result = plan(source, current, bases)
    assert result.updated[0].fields == {"cached_input_per_1m": (None, "0.5")}
    assert result.writes["a"] == (model("a"), Decimal("0.5"))


def test_report_has_the_documented_json_shape() -> None:
    current, bases = synced(model("a"))
    report = plan(upstream(model("a", display_name="A"), model("new")), current, bases).to_dict()
    assert list(report) == [
        "added", "updated", "unchanged", "removed_upstream", "protected", "held", "invalid",
        "skipped_removed_locally", "dropped",
    ]  # fmt: skip
    assert report["updated"] == [{"model_id": "a", "fields": {"display_name": ["a", "A"]}}]
    assert report["invalid"] == [{"model_id": "x", "reason": "bad"}]


CACHE_WRITE = Rate("cache_write_5m", Decimal("3.75"))
LONG_INPUT = Rate("input", Decimal(6), above_tokens=200_000)


def test_rates_are_one_field_compared_as_a_set_in_canonical_text() -> None:
    text = rates_text([LONG_INPUT, CACHE_WRITE])  # any order: the same text
    assert text == "standard/0/cache_write_5m=3.75; standard/200000/input=6"
    assert text == rates_text([CACHE_WRITE, LONG_INPUT])
    assert parse_rates(text) == (CACHE_WRITE, LONG_INPUT)
    assert (rates_text([]), parse_rates(None)) == (None, ())
    assert "rates" not in flatten(model("a"), None)  # no rates: no entry (older bases equal)


def test_an_upstream_rate_change_is_an_update_and_a_local_one_is_protected() -> None:
    current, bases = synced(model("a"), model("b"))
    bases["a"] = Base(KIND, flatten(model("a"), None, [CACHE_WRITE]))
    bases["b"] = Base(KIND, flatten(model("b"), None, [CACHE_WRITE]))
    stored = {"a": (CACHE_WRITE,), "b": (LONG_INPUT,)}  # b's rates were edited locally
    newer = Rate("cache_write_5m", Decimal(4))
    source = Conversion(
        [
            UpstreamModel(model("a"), None, (newer, LONG_INPUT)),
            UpstreamModel(model("b"), None, (newer,)),
            *upstream().models,
        ],
        [],
    )
    result = plan_sync(
        KIND, source, current, bases=bases, removed_locally=set(), options=SyncOptions(),
        rates=stored,
    )  # fmt: skip
    assert [(u.model_id, u.fields) for u in result.updated] == [
        ("a", {"rates": (rates_text([CACHE_WRITE]), rates_text([newer, LONG_INPUT]))})
    ]
    assert result.writes["a"] == (model("a"), None)
    assert result.rates["a"] == (newer, LONG_INPUT)
    assert result.bases["a"]["rates"] == rates_text([newer, LONG_INPUT])
    assert [(p.model_id, p.field) for p in result.protected] == [("b", "rates")]
    assert "b" not in result.writes
    same = Conversion([UpstreamModel(model("a"), None, (CACHE_WRITE,)), *upstream().models], [])
    again = plan_sync(
        KIND, same, current, bases=bases, removed_locally=set(), options=SyncOptions(),
        rates=stored,
    )  # fmt: skip
    assert (again.updated, again.writes) == ([], {})


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("standard/0/cache_write_5m", "rates[0].amount"),  # no amount
        ("standard/x/input=1", "rates"),  # not a threshold
        ("gold/0/cache_write_5m=1", "rates[0].service_tier"),
        ("standard/0/input=1", "rates[0].component"),  # the Price's own field
    ],
)
def test_rates_text_that_is_not_valid_is_e4003_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        parse_rates(text)
    assert raised.value.code == "E4003"
    assert [v.field for v in raised.value.violations] == [field]
