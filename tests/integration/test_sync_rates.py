"""Issue 17, item 6, on both engines and both APIs: a sync writes the rates its converters map
(cache writes, context tiers, service tiers) and the estimate uses them; a no-op re-sync
writes nothing; an upstream rate change writes a new price with all the rates; a local edit of
the rates survives a re-sync (and resets to upstream's); a dry run shows the rate change.

The upstream entries are real ones of LiteLLM's map (tests/unit/litellm_price_entries.json).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelregistry import Rate
from upstream_docs import encoded, litellm_map

if TYPE_CHECKING:
    from modelregistry import ModelRegistry

ENTRIES: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "unit" / "litellm_price_entries.json").read_text(
        encoding="utf-8"
    )
)
SONNET = "claude-sonnet-4-5"
GPT5 = "gpt-5"
SONNET_RATES = (
    "standard/0/cache_write_5m=3.75; standard/200000/input=6; standard/200000/cached_input=0.6; "
    "standard/200000/cache_write_5m=7.5; standard/200000/output=22.5"
)


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Writes a document to a file and returns its path."""
    counter = iter(range(1000))

    def writer(document: object) -> str:
        path = tmp_path / f"upstream-{next(counter)}.json"
        path.write_bytes(encoded(document))
        return str(path)

    return writer


def upstream(**changes: Any) -> dict[str, Any]:
    """60 synthetic models plus the real Sonnet 4.5 and GPT-5 entries (``changes`` merged in)."""
    entries = {SONNET: dict(ENTRIES[SONNET]), GPT5: dict(ENTRIES[GPT5])}
    for key, fields in changes.items():
        entries[key] = {k: v for k, v in {**entries[key], **fields}.items() if v is not None}
    return litellm_map(60, **entries)


def rates_of(registry: ModelRegistry, model_id: str) -> list[tuple[str, int, str, Decimal]]:
    price = registry.get_price(model_id)
    return [(r.service_tier, r.above_tokens, r.component, r.amount) for r in price.rates]


def revision_count(registry: ModelRegistry) -> int:
    return sum(len(registry.get_model_history(m.model_id)) for m in registry.list_models())


def price_count(registry: ModelRegistry) -> int:
    return sum(len(registry.get_price_history(m.model_id)) for m in registry.list_models())


@pytest.mark.both_apis
def test_a_sync_writes_the_rates_and_the_estimate_uses_them(
    registry: ModelRegistry, write: Any
) -> None:
    result = registry.sync("litellm", write(upstream()))
    assert {SONNET, GPT5} <= set(result.plan.added)
    assert rates_of(registry, SONNET) == [
        ("standard", 0, "cache_write_5m", Decimal("3.75")),
        ("standard", 200_000, "input", Decimal(6)),
        ("standard", 200_000, "cached_input", Decimal("0.6")),
        ("standard", 200_000, "cache_write_5m", Decimal("7.5")),
        ("standard", 200_000, "output", Decimal("22.5")),
    ]
    # 80k prompt: the base rates, 10k*3 + 50k*0.3 + 20k*3.75 + 2k*15 (per 1M) = 0.15.
    short = registry.estimate_cost(
        SONNET, 10_000, 2_000, cached_input_tokens=50_000, cache_write_tokens=20_000
    )
    assert short == Decimal("0.15")
    # 210k prompt, above 200k: every token at the tier's rates,
    # 150k*6 + 40k*0.6 + 20k*7.5 + 2k*22.5 (per 1M) = 1.119.
    found = registry.cost_breakdown(
        SONNET, 150_000, 2_000, cached_input_tokens=40_000, cache_write_tokens=20_000
    )
    assert (found.context_tier, found.total) == (200_000, Decimal("1.119"))
    # GPT-5's service tiers: priority 10k*2.5 + 1k*20 = 0.045; flex 10k*0.625 + 1k*5 = 0.01125.
    assert registry.estimate_cost(GPT5, 10_000, 1_000, service_tier="priority") == Decimal("0.045")
    assert registry.estimate_cost(GPT5, 10_000, 1_000, service_tier="flex") == Decimal("0.01125")
    assert registry.list_overrides() == []  # the bases hold the rates the sync wrote


@pytest.mark.both_apis
def test_a_no_op_re_sync_writes_nothing(registry: ModelRegistry, write: Any) -> None:
    path = write(upstream())
    registry.sync("litellm", path)
    revisions, prices = revision_count(registry), price_count(registry)
    again = registry.sync("litellm", path)
    assert (again.plan.updated, again.plan.added, again.plan.unchanged) == ([], [], 62)
    fresh = registry.sync("litellm", path, adopt=True)  # no ETag shortcut: a full plan
    assert (fresh.plan.updated, fresh.plan.unchanged) == ([], 62)
    assert (revision_count(registry), price_count(registry)) == (revisions, prices)


@pytest.mark.both_apis
def test_an_upstream_rate_change_writes_a_new_price_with_all_the_rates(
    registry: ModelRegistry, write: Any
) -> None:
    registry.sync("litellm", write(upstream()))
    before = len(registry.get_price_history(SONNET))
    changed = upstream(
        **{
            SONNET: {"cache_creation_input_token_cost": 4e-06},  # rates only
            GPT5: {  # flex gone; the base input price changes too
                "input_cost_per_token": 1.5e-06,
                "input_cost_per_token_flex": None,
                "output_cost_per_token_flex": None,
                "cache_read_input_token_cost_flex": None,
            },
        }
    )
    result = registry.sync("litellm", write(changed))
    updated = {item.model_id: item.fields for item in result.plan.updated}
    assert updated[SONNET] == {
        "rates": (SONNET_RATES, SONNET_RATES.replace("cache_write_5m=3.75", "cache_write_5m=4"))
    }
    assert set(updated[GPT5]) == {"cost_per_1m_input_tokens", "rates"}
    assert len(registry.get_price_history(SONNET)) == before + 1
    sonnet = registry.get_price(SONNET)
    assert (sonnet.input_per_1m, sonnet.output_per_1m, sonnet.cached_input_per_1m) == (
        Decimal(3), Decimal(15), Decimal("0.3")
    )  # fmt: skip
    assert rates_of(registry, SONNET)[0] == ("standard", 0, "cache_write_5m", Decimal(4))
    assert len(rates_of(registry, SONNET)) == 5  # the context tier's rates are kept
    assert registry.get_price(GPT5).input_per_1m == Decimal("1.5")
    assert {r[0] for r in rates_of(registry, GPT5)} == {"priority"}
    assert registry.list_overrides() == []
    again = registry.sync("litellm", write(changed), adopt=True)
    assert again.plan.updated == []


@pytest.mark.both_apis
def test_a_local_edit_of_the_rates_survives_a_re_sync_and_resets_to_upstreams(
    registry: ModelRegistry, write: Any
) -> None:
    registry.sync("litellm", write(upstream()))
    ours = [Rate("cache_write_5m", Decimal("3.5")), Rate("input", Decimal(5), above_tokens=200_000)]
    registry.set_price(SONNET, "3", "15", cached_input_per_1m="0.3", rates=ours, reason="deal")
    local = "standard/0/cache_write_5m=3.5; standard/200000/input=5"
    changed = upstream(**{SONNET: {"cache_creation_input_token_cost": 4e-06}})
    new_upstream = SONNET_RATES.replace("cache_write_5m=3.75", "cache_write_5m=4")
    result = registry.sync("litellm", write(changed))
    assert SONNET not in {item.model_id for item in result.plan.updated}
    assert [(p.model_id, p.field, p.local, p.upstream) for p in result.plan.protected] == [
        (SONNET, "rates", local, new_upstream)
    ]
    assert rates_of(registry, SONNET) == [
        ("standard", 0, "cache_write_5m", Decimal("3.5")),
        ("standard", 200_000, "input", Decimal(5)),
    ]
    assert [(o.field, o.local, o.upstream) for o in registry.list_overrides()] == [
        ("rates", local, new_upstream)
    ]
    [reset] = registry.reset_override(SONNET, "rates")
    assert reset.field == "rates"
    assert rates_of(registry, SONNET)[0] == ("standard", 0, "cache_write_5m", Decimal(4))
    assert len(rates_of(registry, SONNET)) == 5
    assert registry.list_overrides() == []


@pytest.mark.both_apis
def test_a_dry_run_shows_the_rate_change_and_writes_nothing(
    registry: ModelRegistry, write: Any
) -> None:
    registry.sync("litellm", write(upstream()))
    prices = price_count(registry)
    changed = upstream(**{SONNET: {"cache_creation_input_token_cost": 4e-06}})
    result = registry.sync("litellm", write(changed), dry_run=True)
    assert result.plan.to_dict()["updated"] == [
        {
            "model_id": SONNET,
            "fields": {
                "rates": [
                    SONNET_RATES,
                    SONNET_RATES.replace("cache_write_5m=3.75", "cache_write_5m=4"),
                ]
            },
        }
    ]
    assert price_count(registry) == prices
    assert rates_of(registry, SONNET)[0] == ("standard", 0, "cache_write_5m", Decimal("3.75"))


@pytest.mark.both_apis
def test_a_cached_input_change_alone_keeps_the_rates(registry: ModelRegistry, write: Any) -> None:
    registry.sync("litellm", write(upstream()))
    ours = [Rate("cache_write_5m", Decimal("3.5"))]
    registry.set_price(SONNET, "3", "15", cached_input_per_1m="0.3", rates=ours, reason="deal")
    registry.sync("litellm", write(upstream(**{SONNET: {"cache_read_input_token_cost": 2.5e-07}})))
    price = registry.get_price(SONNET)
    assert price.cached_input_per_1m == Decimal("0.25")  # upstream's, not edited locally
    assert rates_of(registry, SONNET) == [("standard", 0, "cache_write_5m", Decimal("3.5"))]
