"""Effective-dated prices and exact cost estimates, on both backends and both APIs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from cases import GPT4_TURBO, config, snapshot
from modelregistry import (
    ChangeKind,
    ConcurrentModificationError,
    InvalidArgumentError,
    InvalidModelConfigError,
    ModelNotFoundError,
    ModelRegistry,
    PriceNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.both_apis

DEADLINE = 60.0  # generous: only a broken registry takes this long
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def priced(registry: ModelRegistry) -> ModelRegistry:
    """A registry holding gpt-4-turbo at 10 / 30 USD per 1M tokens."""
    registry.register_model(GPT4_TURBO)
    return registry


def test_a_new_model_starts_with_its_costs_as_its_price(priced: ModelRegistry) -> None:
    price = priced.get_price("gpt-4-turbo")
    assert (price.input_per_1m, price.output_per_1m) == (Decimal(10), Decimal(30))
    assert (price.cached_input_per_1m, price.effective_until, price.currency) == (
        None,
        None,
        "USD",
    )
    assert [p.effective_from for p in priced.get_price_history("gpt-4-turbo")] == [
        price.effective_from
    ]


def test_a_price_change_at_t1_leaves_estimates_before_t1_unchanged(
    priced: ModelRegistry,
) -> None:
    before = datetime.now(UTC)
    assert priced.estimate_cost("gpt-4-turbo", 1000, 2000) == Decimal("0.07")
    price = priced.set_price("gpt-4-turbo", "2.5", 10, reason="price cut", actor="finops")
    t1 = price.effective_from
    assert priced.estimate_cost("gpt-4-turbo", 1000, 2000, at=before) == Decimal("0.07")
    assert priced.estimate_cost("gpt-4-turbo", 1000, 2000, at=t1 - MICROSECOND) == Decimal("0.07")
    assert priced.estimate_cost("gpt-4-turbo", 1000, 2000, at=t1) == Decimal("0.0225")
    assert priced.estimate_cost("gpt-4-turbo", 1000, 2000) == Decimal("0.0225")
    # The model shows the price in effect, and the change is a version of its own.
    model = priced.get_model_or_raise("gpt-4-turbo")
    assert (model.cost_per_1m_input_tokens, model.cost_per_1m_output_tokens) == (2.5, 10.0)
    latest = priced.get_model_history("gpt-4-turbo")[-1]
    assert (latest.version, latest.change, latest.actor, latest.reason) == (
        2,
        ChangeKind.REPRICED,
        "finops",
        "price cut",
    )
    # ... and the catalog as it was before T1 shows the old price.
    then = priced.get_model_or_raise("gpt-4-turbo", as_of=before)
    assert then.cost_per_1m_input_tokens == 10.0
    history = priced.get_price_history("gpt-4-turbo")
    assert [(p.input_per_1m, p.effective_until) for p in history] == [
        (Decimal(10), t1),
        (Decimal("2.5"), None),
    ]
    assert (history[1].actor, history[1].reason) == ("finops", "price cut")


def test_a_future_price_takes_effect_by_itself_at_its_time(
    priced: ModelRegistry, database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    start = datetime.now(UTC) + timedelta(seconds=2)
    priced.set_price("gpt-4-turbo", 1, 2, effective_from=start, reason="scheduled")
    # Exact at the boundary, whatever the clock says now.
    assert priced.get_price("gpt-4-turbo", at=start - MICROSECOND).input_per_1m == 10
    assert priced.get_price("gpt-4-turbo", at=start).input_per_1m == 1
    assert priced.get_price("gpt-4-turbo", at=start - MICROSECOND).effective_until == start
    with open_registry(database_url, cache=False) as direct:
        readers = {"cached": priced, "uncached": direct}
        seen: dict[str, datetime] = {}
        deadline = time.monotonic() + DEADLINE
        while len(seen) < len(readers) and time.monotonic() < deadline:
            for name, reader in readers.items():
                model = reader.get_model_or_raise("gpt-4-turbo")
                if name not in seen and model.cost_per_1m_input_tokens == 1.0:
                    seen[name] = datetime.now(UTC)
                    found = reader.find_models(max_cost_per_1m_input=1, providers=["openai"])
                    assert [m.model_id for m in found] == ["gpt-4-turbo"]
                    assert reader.estimate_cost("gpt-4-turbo", 10**6, 0) == 1
            time.sleep(0.02)
    assert set(seen) == set(readers), "the scheduled price never took effect"
    assert all(when >= start for when in seen.values())  # and never before its time


def test_a_future_price_reaches_another_process_cache(
    priced: ModelRegistry, database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    with open_registry(database_url, poll_interval=0.05) as other:
        assert other.get_price("gpt-4-turbo").input_per_1m == 10
        start = datetime.now(UTC) + timedelta(days=30)
        priced.set_price("gpt-4-turbo", 7, 21, effective_from=start)
        deadline = time.monotonic() + DEADLINE
        while len(other.get_price_history("gpt-4-turbo")) < 2:
            assert time.monotonic() < deadline, "the scheduled price never arrived"
            time.sleep(0.02)
        assert other.get_price("gpt-4-turbo", at=start).input_per_1m == 7
        assert other.get_model_or_raise("gpt-4-turbo").cost_per_1m_input_tokens == 10.0


def test_registering_new_costs_records_a_price_from_now_and_keeps_the_cached_rate(
    priced: ModelRegistry,
) -> None:
    priced.set_price("gpt-4-turbo", 10, 30, cached_input_per_1m=5)
    priced.register_model(config(cost_per_1m_input_tokens=8.0))
    price = priced.get_price("gpt-4-turbo")
    assert (price.input_per_1m, price.output_per_1m, price.cached_input_per_1m) == (
        Decimal(8),
        Decimal(30),
        Decimal(5),
    )
    # Registering the same costs again records no price.
    priced.register_model(config(cost_per_1m_input_tokens=8.0, display_name="GPT-4T"))
    assert len(priced.get_price_history("gpt-4-turbo")) == 3


def test_cached_input_tokens_cost_the_cached_rate_else_the_input_rate(
    priced: ModelRegistry,
) -> None:
    assert priced.estimate_cost("gpt-4-turbo", 0, 0, cached_input_tokens=1000) == Decimal("0.01")
    priced.set_price("gpt-4-turbo", 10, 30, cached_input_per_1m="2.5")
    assert priced.estimate_cost("gpt-4-turbo", 1000, 100, cached_input_tokens=4000) == Decimal(
        "0.023"
    )


def test_estimates_are_exact_decimals_however_large(priced: ModelRegistry) -> None:
    priced.set_price("gpt-4-turbo", "0.0000000001", "9999.9999999999")
    huge = 2**63 - 1
    cost = priced.estimate_cost("gpt-4-turbo", huge, huge)
    assert cost == (
        Decimal(huge) * Decimal("0.0000000001") + Decimal(huge) * Decimal("9999.9999999999")
    ) / Decimal(10**6)
    assert priced.estimate_cost("gpt-4-turbo", 1, 0) == Decimal("1E-16")
    assert priced.estimate_cost("gpt-4-turbo", 0, 0) == 0


def test_setting_the_price_in_effect_again_writes_nothing(priced: ModelRegistry) -> None:
    version = priced.get_model_or_raise("gpt-4-turbo").version
    price = priced.set_price("gpt-4-turbo", Decimal("10.000"), 30.0)
    assert price == priced.get_price("gpt-4-turbo")
    assert priced.get_model_or_raise("gpt-4-turbo").version == version
    assert len(priced.get_price_history("gpt-4-turbo")) == 1


def test_two_prices_for_one_instant_the_later_wins(priced: ModelRegistry) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    priced.set_price("gpt-4-turbo", 1, 1, effective_from=start)
    priced.set_price("gpt-4-turbo", 2, 2, effective_from=start)
    assert priced.get_price("gpt-4-turbo", at=start).input_per_1m == 2
    history = priced.get_price_history("gpt-4-turbo")
    assert [(p.input_per_1m, p.effective_from, p.effective_until) for p in history[1:]] == [
        (Decimal(1), start, start),  # superseded before it ever applied
        (Decimal(2), start, None),
    ]


def test_prices_outlive_the_model_like_its_history(priced: ModelRegistry) -> None:
    during = datetime.now(UTC)
    priced.remove_model("gpt-4-turbo")
    assert priced.get_model("gpt-4-turbo") is None
    assert priced.estimate_cost("gpt-4-turbo", 10**6, 0, at=during) == 10
    with pytest.raises(ModelNotFoundError):
        priced.set_price("gpt-4-turbo", 1, 1)


def test_set_price_honours_expected_version(priced: ModelRegistry) -> None:
    with pytest.raises(ConcurrentModificationError):
        priced.set_price("gpt-4-turbo", 1, 1, expected_version=7)
    assert priced.set_price("gpt-4-turbo", 1, 1, expected_version=1).input_per_1m == 1


def test_unknown_models_and_instants_before_the_first_price(priced: ModelRegistry) -> None:
    for call in (
        lambda: priced.get_price("nope"),
        lambda: priced.get_price_history("nope"),
        lambda: priced.estimate_cost("nope", 1, 1),
        lambda: priced.set_price("nope", 1, 1),
    ):
        with pytest.raises(ModelNotFoundError) as raised:
            call()
        assert raised.value.code == "E4001"
    first = priced.get_price("gpt-4-turbo").effective_from
    with pytest.raises(PriceNotFoundError) as missing:
        priced.get_price("gpt-4-turbo", at=first - MICROSECOND)
    assert missing.value.code == "E4006"
    assert "first price" in str(missing.value)


BAD_PRICES: list[tuple[dict[str, Any], str]] = [
    ({"input_per_1m": -1}, "input_per_1m"),
    ({"output_per_1m": float("nan")}, "output_per_1m"),
    ({"output_per_1m": float("inf")}, "output_per_1m"),
    ({"input_per_1m": "Infinity"}, "input_per_1m"),
    ({"input_per_1m": "ten"}, "input_per_1m"),
    ({"input_per_1m": True}, "input_per_1m"),
    ({"input_per_1m": None}, "input_per_1m"),
    ({"input_per_1m": 10_000.5}, "input_per_1m"),
    ({"output_per_1m": "0.00000000001"}, "output_per_1m"),
    ({"cached_input_per_1m": -0.5}, "cached_input_per_1m"),
    ({"effective_from": datetime(2030, 1, 1)}, "effective_from"),  # noqa: DTZ001 - naive on purpose
    ({"effective_from": datetime(2000, 1, 1, tzinfo=UTC)}, "effective_from"),  # the past
    ({"effective_from": "2030-01-01"}, "effective_from"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PRICES)
def test_an_invalid_price_is_e4003_naming_the_field_and_writes_nothing(
    priced: ModelRegistry, raw_engine: sa.Engine, change: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"input_per_1m": 1, "output_per_1m": 2, **change}
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError) as raised:
        priced.set_price("gpt-4-turbo", **arguments)
    assert raised.value.code == "E4003"
    assert [v.field for v in raised.value.violations] == [field]
    assert snapshot(raw_engine) == before


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"input_tokens": -1, "output_tokens": 0}, "input_tokens"),
        ({"input_tokens": 1, "output_tokens": 1.5}, "output_tokens"),
        (
            {"input_tokens": 1, "output_tokens": 1, "cached_input_tokens": True},
            "cached_input_tokens",
        ),
        ({"input_tokens": 1, "output_tokens": 1, "at": datetime(2030, 1, 1)}, "at"),  # noqa: DTZ001
    ],
)
def test_estimate_cost_refuses_bad_counts_and_naive_instants_with_e4007(
    priced: ModelRegistry, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        priced.estimate_cost("gpt-4-turbo", **arguments)
    assert raised.value.code == "E4007"
    assert [v.field for v in raised.value.violations] == [field]


@pytest.mark.parametrize("table", ["model_prices", "model_aliases"])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET actor = 'rewritten'", "DELETE FROM {table}"]
)
@pytest.mark.usefixtures("priced")
def test_prices_and_aliases_cannot_be_rewritten_even_in_sql(
    raw_engine: sa.Engine, table: str, statement: str
) -> None:
    with raw_engine.begin() as connection:  # a row to rewrite, in both tables
        connection.execute(
            sa.text(
                "INSERT INTO model_aliases (alias, model_id, changed_at, actor) "
                "VALUES ('x', 'gpt-4-turbo', CURRENT_TIMESTAMP, 'test')"
            )
        )
    before = snapshot(raw_engine)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), raw_engine.begin() as c:
        c.execute(sa.text(statement.format(table=table)))
    assert snapshot(raw_engine) == before


def test_an_import_that_changes_costs_records_prices_from_then(priced: ModelRegistry) -> None:
    before = datetime.now(UTC)
    result = priced.import_catalog(
        {"models": [config(cost_per_1m_input_tokens=9.5), config(model_id="new", provider="x")]}
    )
    assert (result.added, result.changed) == (["new"], ["gpt-4-turbo"])
    history = priced.get_price_history("gpt-4-turbo")
    assert [p.input_per_1m for p in history] == [Decimal(10), Decimal("9.5")]
    assert priced.get_price("gpt-4-turbo", at=before).input_per_1m == 10
    assert priced.get_price("new").input_per_1m == 10  # a new model starts priced
