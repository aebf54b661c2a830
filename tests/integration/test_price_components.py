"""Issue 17: price components, context tiers (cliffs) and service tiers, golden estimates.

Every test runs on SQLite and PostgreSQL, through ModelRegistry and AsyncModelRegistry, with
the cache on and off. The expected amounts are worked out by hand from the rates of
:data:`RATES` (tokens x rate / 1M), never by the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from cases import GPT4_TURBO
from modelregistry import (
    ComponentCost,
    InvalidArgumentError,
    InvalidModelConfigError,
    ModelRegistry,
    PriceComponentNotFoundError,
    Rate,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.both_apis

MODEL = "gpt-4-turbo"
BASE = ("2", "8", "0.5")
"""Standard base: input, output, cached input (USD per 1M tokens)."""
RATES: list[Rate | dict[str, Any]] = [
    # standard, beyond the base
    Rate("cache_write_5m", Decimal("2.5")),
    Rate("cache_write_1h", Decimal(4)),
    Rate("reasoning", Decimal(10)),
    Rate("request", Decimal("0.001")),  # USD per request
    Rate("input", Decimal(3), above_tokens=128_000),
    Rate("input", Decimal(4), above_tokens=200_000),
    Rate("output", Decimal(12), above_tokens=200_000),
    Rate("cached_input", Decimal(1), above_tokens=200_000),
    # batch: no cached input (-> batch input), no reasoning (-> batch output), no 1h write
    {"component": "input", "amount": "1", "service_tier": "batch"},
    {"component": "output", "amount": "4", "service_tier": "batch"},
    {"component": "cache_write_5m", "amount": "1.25", "service_tier": "batch"},
    {"component": "input", "amount": "1.5", "service_tier": "batch", "above_tokens": 128_000},
    {"component": "input", "amount": "2", "service_tier": "batch", "above_tokens": 200_000},
    {"component": "output", "amount": "6", "service_tier": "batch", "above_tokens": 200_000},
    # priority: base rates only (no context tier); flex: no cache write
    Rate("input", Decimal("3.5"), service_tier="priority"),
    Rate("output", Decimal(14), service_tier="priority"),
    Rate("cached_input", Decimal("0.875"), service_tier="priority"),
    Rate("input", Decimal(1), service_tier="flex"),
    Rate("output", Decimal(4), service_tier="flex"),
]

# (arguments, expected total, context tier applied): each threshold -1, exactly, +1.
GOLDEN: list[tuple[dict[str, Any], str, int]] = [
    # standard, input + 1,000 output; + 0.001 per request
    ({"input_tokens": 127_999}, "0.264998", 0),  # 0.255998 + 0.008 + 0.001
    ({"input_tokens": 128_000}, "0.265", 0),  # not strictly above: the base
    ({"input_tokens": 128_001}, "0.393003", 128_000),  # 0.384003 + 0.008 (base output)
    ({"input_tokens": 199_999}, "0.608997", 128_000),
    ({"input_tokens": 200_000}, "0.609", 128_000),
    ({"input_tokens": 200_001}, "0.813004", 200_000),  # 0.800004 + 0.012 + 0.001
    # the prompt counts cached and cache-write tokens: 100k + 100k + 1 = 200,001
    (
        {"input_tokens": 100_000, "cached_input_tokens": 100_000, "cache_write_tokens": 1},
        "0.5130025",  # 0.4 + 0.1 + 0.0000025 (base 5m write) + 0.012 + 0.001
        200_000,
    ),
    (
        {"input_tokens": 100_000, "cached_input_tokens": 100_000},
        "0.359",  # 128k tier: 0.3 + 0.05 (base cached) + 0.008 + 0.001
        128_000,
    ),
    # reasoning priced apart; cache write per lifetime
    ({"input_tokens": 0, "reasoning_tokens": 1000}, "0.019", 0),  # 0.008 + 0.01 + 0.001
    (
        {"input_tokens": 0, "cache_write_tokens": 1000, "cache_write_ttl": "1h"},
        "0.013",  # 0.004 + 0.008 + 0.001
        0,
    ),
    # batch: its own cliffs, no per-request fee
    ({"input_tokens": 127_999, "service_tier": "batch"}, "0.131999", 0),
    ({"input_tokens": 128_000, "service_tier": "batch"}, "0.132", 0),
    ({"input_tokens": 128_001, "service_tier": "batch"}, "0.1960015", 128_000),
    ({"input_tokens": 200_000, "service_tier": "batch"}, "0.304", 128_000),
    ({"input_tokens": 200_001, "service_tier": "batch"}, "0.406002", 200_000),
    (
        {"input_tokens": 0, "cached_input_tokens": 1000, "service_tier": "batch"},
        "0.005",  # cached -> batch input 1 (not standard's 0.5): 0.001 + 0.004
        0,
    ),
    ({"input_tokens": 0, "reasoning_tokens": 1000, "service_tier": "batch"}, "0.008", 0),
    ({"input_tokens": 0, "cache_write_tokens": 1000, "service_tier": "batch"}, "0.00525", 0),
    # priority: exactly at the lowest threshold is still its base
    ({"input_tokens": 128_000, "service_tier": "priority"}, "0.462", 0),  # 0.448 + 0.014
    ({"input_tokens": 0, "cached_input_tokens": 8000, "service_tier": "priority"}, "0.021", 0),
    ({"input_tokens": 1000, "service_tier": "flex"}, "0.005", 0),
]

# (arguments, service tier, context tier, component) of the E4090 errors.
MISSING: list[tuple[dict[str, Any], str, int, str]] = [
    ({"input_tokens": 128_001, "service_tier": "priority"}, "priority", 128_000, "*"),
    ({"input_tokens": 10, "service_tier": "ultrafast"}, "ultrafast", 0, "*"),
    (
        {"input_tokens": 10, "cache_write_tokens": 1, "service_tier": "flex"},
        "flex",
        0,
        "cache_write_5m",
    ),
    (
        {
            "input_tokens": 10,
            "cache_write_tokens": 1,
            "cache_write_ttl": "1h",
            "service_tier": "batch",
        },
        "batch",
        0,
        "cache_write_1h",
    ),
    (
        {"input_tokens": 10, "cache_write_tokens": 1, "cache_write_ttl": "12h"},
        "standard",
        0,
        "cache_write_12h",
    ),
]


@pytest.fixture(params=["cached", "uncached"])
def rated(
    request: pytest.FixtureRequest,
    database_url: str,
    open_registry: Callable[..., ModelRegistry],
) -> Iterator[ModelRegistry]:
    """A registry (cache on or off) where gpt-4-turbo has the price of :data:`RATES`."""
    with open_registry(database_url, cache=request.param == "cached") as registry:
        registry.register_model(GPT4_TURBO)
        registry.set_price(MODEL, *BASE[:2], cached_input_per_1m=BASE[2], rates=RATES)
        yield registry


def test_golden_estimates_at_every_threshold_tier_and_component(rated: ModelRegistry) -> None:
    for arguments, total, context in GOLDEN:
        asked = {"output_tokens": 1000, **arguments}
        inputs = asked.pop("input_tokens")
        outputs = asked.pop("output_tokens")
        found = rated.cost_breakdown(MODEL, inputs, outputs, **asked)
        assert (found.total, found.context_tier) == (Decimal(total), context), arguments
        assert rated.estimate_cost(MODEL, inputs, outputs, **asked) == Decimal(total), arguments
        assert found.total == sum((part.amount for part in found.components), Decimal(0))


def test_a_missing_rate_is_an_error_naming_model_tiers_and_component(rated: ModelRegistry) -> None:
    for arguments, tier, context, component in MISSING:
        asked = dict(arguments)
        inputs = asked.pop("input_tokens")
        with pytest.raises(PriceComponentNotFoundError) as caught:
            rated.estimate_cost(MODEL, inputs, 0, **asked)
        assert caught.value.code == "E4090"
        assert caught.value.context == {
            "model_id": MODEL,
            "service_tier": tier,
            "context_tier": context,
            "component": component,
        }, arguments
        with pytest.raises(PriceComponentNotFoundError):
            rated.cost_breakdown(MODEL, inputs, 0, **asked)


def test_the_breakdown_says_each_rate_its_tier_and_every_fallback(rated: ModelRegistry) -> None:
    found = rated.cost_breakdown(
        MODEL, 150_000, 2000, cached_input_tokens=60_000, reasoning_tokens=500, service_tier="batch"
    )
    # prompt 210,000 > 200k: batch's 200k tier; it has no cached input -> its input rate there.
    assert (found.model_id, found.service_tier, found.context_tier) == (MODEL, "batch", 200_000)
    assert found.prompt_tokens == 210_000
    assert found.components == (
        ComponentCost("input", 150_000, Decimal(2), Decimal("0.3"), 200_000),
        ComponentCost("cached_input", 60_000, Decimal(2), Decimal("0.12"), 200_000, "input"),
        ComponentCost("output", 2000, Decimal(6), Decimal("0.012"), 200_000),
        ComponentCost("reasoning", 500, Decimal(6), Decimal("0.003"), 200_000, "output"),
    )
    assert found.total == Decimal("0.435")
    standard = rated.cost_breakdown(MODEL, 130_000, 10, cache_write_tokens=100)
    # The 128k tier prices only input: output and the cache write keep the base rates.
    assert standard.components == (
        ComponentCost("input", 130_000, Decimal(3), Decimal("0.39"), 128_000),
        ComponentCost("cache_write_5m", 100, Decimal("2.5"), Decimal("0.00025"), 0),
        ComponentCost("output", 10, Decimal(8), Decimal("0.00008"), 0),
        ComponentCost("request", 1, Decimal("0.001"), Decimal("0.001"), 0),
    )
    assert standard.total == Decimal("0.39133")


def test_the_cache_answers_exactly_what_sql_does(
    database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    with open_registry(database_url) as cached, open_registry(database_url, cache=False) as sql:
        cached.register_model(GPT4_TURBO)
        cached.set_price(MODEL, *BASE[:2], cached_input_per_1m=BASE[2], rates=RATES)
        cached.refresh()
        assert cached.get_price(MODEL) == sql.get_price(MODEL)
        assert cached.get_price(MODEL).rates == sql.get_price(MODEL).rates != ()
        for tier in ("standard", "batch", "priority", "flex"):
            for inputs in (0, 127_999, 128_000, 128_001, 200_000, 200_001):
                arguments: dict[str, Any] = {
                    "cached_input_tokens": 10,
                    "reasoning_tokens": 3,
                    "service_tier": tier,
                }
                try:
                    expected: object = sql.cost_breakdown(MODEL, inputs, 7, **arguments)
                except PriceComponentNotFoundError as exc:
                    expected = exc.context
                try:
                    answered: object = cached.cost_breakdown(MODEL, inputs, 7, **arguments)
                except PriceComponentNotFoundError as exc:
                    answered = exc.context
                assert answered == expected, (tier, inputs)


def test_rates_are_per_period_and_a_scheduled_price_brings_its_own(rated: ModelRegistry) -> None:
    before = datetime.now(UTC)
    start = before + timedelta(days=30)
    rated.set_price(
        MODEL, 1, 2, rates=[Rate("cache_write_5m", Decimal("1.25"))], effective_from=start
    )
    # Before the new price: its rates; from it on: the new ones (the old tiers are gone).
    assert rated.estimate_cost(MODEL, 0, 0, cache_write_tokens=10**6) == Decimal("2.501")
    assert rated.estimate_cost(MODEL, 0, 0, cache_write_tokens=10**6, at=start) == Decimal("1.25")
    with pytest.raises(PriceComponentNotFoundError):
        rated.estimate_cost(MODEL, 10, 0, service_tier="batch", at=start)
    history = rated.get_price_history(MODEL)
    assert [len(price.rates) for price in history] == [0, len(RATES), 1]
    # Estimates without the new arguments keep their meaning (0 cache writes, standard).
    assert rated.estimate_cost(MODEL, 10**6, 10**6, at=start) == Decimal(3)


def test_bad_rates_and_arguments_are_refused_and_nothing_changes(rated: ModelRegistry) -> None:
    before = rated.get_price_history(MODEL)
    bad: list[tuple[list[Any], str]] = [
        ([Rate("input", Decimal(1))], "rates[0].component"),  # the standard base's own field
        ([{"component": "caching", "amount": "1"}], "rates[0].component"),
        ([{"component": "input", "amount": "1", "service_tier": "turbo"}], "rates[0].service_tier"),
        ([{"component": "input", "amount": "-1", "service_tier": "batch"}], "rates[0].amount"),
        ([{"component": "input", "amount": "1", "above_tokens": -5}], "rates[0].above_tokens"),
        ([Rate("reasoning", Decimal(1)), Rate("reasoning", Decimal(2))], "rates[1]"),
        (["input"], "rates[0]"),
    ]
    for rates, field in bad:
        with pytest.raises(InvalidModelConfigError) as caught:
            rated.set_price(MODEL, 1, 2, rates=rates)
        assert [v.field for v in caught.value.violations] == [field], rates
    assert rated.get_price_history(MODEL) == before
    for arguments, field in (
        ({"service_tier": "gold"}, "service_tier"),
        ({"cache_write_ttl": "2h"}, "cache_write_ttl"),
        ({"cache_write_tokens": -1}, "cache_write_tokens"),
        ({"reasoning_tokens": 1.5}, "reasoning_tokens"),
    ):
        with pytest.raises(InvalidArgumentError) as refused:
            rated.estimate_cost(MODEL, 1, 1, **arguments)
        assert [v.field for v in refused.value.violations] == [field]
        assert "must be" in str(refused.value)
