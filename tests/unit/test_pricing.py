"""Money rules, exact estimates and price timelines, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from modelregistry import InvalidModelConfigError, Price
from modelregistry.domain.pricing import (
    decimal_text,
    estimate,
    exact_decimal,
    in_effect,
    money,
    next_change,
    plain,
    with_periods,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def price(input_per_1m: str, start: datetime, cached: str | None = None) -> Price:
    return Price(
        model_id="m",
        input_per_1m=Decimal(input_per_1m),
        output_per_1m=Decimal(2),
        cached_input_per_1m=None if cached is None else Decimal(cached),
        effective_from=start,
        recorded_at=start,
        actor="test",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, "0.1"), ("15", "15"), (Decimal("10.000"), "10"), (100, "100"), ("1E+1", "10")],
)
def test_money_keeps_the_decimal_meant_in_plain_form(value: object, expected: str) -> None:
    assert str(money(value, "input_per_1m")) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(0.1, "0.1"), (1e-10, "1E-10"), (10_000.0, "10000.0"), (3.0, "3.0")]
)
def test_exact_decimal_is_the_decimal_a_float_prints_as(value: float, expected: str) -> None:
    assert exact_decimal(value) == Decimal(expected)
    assert exact_decimal(value) != Decimal(value) or value == int(value)


@pytest.mark.parametrize(
    "value", [-1, "NaN", float("nan"), float("-inf"), "x", None, True, 10_000.01, "1e-11", []]
)
def test_money_refuses_what_is_not_a_price(value: object) -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        money(value, "output_per_1m")
    assert raised.value.violations[0].field == "output_per_1m"


@example(0, 9_223_372_032_477_931_586, Decimal("0.1084202173"))  # 31 digits: was rounded
@given(
    st.integers(min_value=0, max_value=2**63 - 1),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.decimals(min_value=0, max_value=10_000, places=10),
)
def test_estimates_are_exact(tokens: int, cached: int, rate: Decimal) -> None:
    at_rate = Price("m", rate, rate, None, T0, T0, "test")
    with localcontext(Context(prec=100)):  # Python's default 28 digits would round
        expected = (Decimal(tokens) * rate * 2 + Decimal(cached) * rate) / Decimal(10**6)
    assert estimate(at_rate, tokens, tokens, cached) == expected


def test_a_timeline_answers_each_instant_and_the_later_record_wins_a_tie() -> None:
    t1 = T0 + timedelta(days=1)
    timeline = (price("1", T0), price("2", t1), price("3", t1))
    assert in_effect(timeline, T0 - timedelta(microseconds=1)) is None
    assert in_effect(timeline, T0) == timeline[0]
    assert in_effect(timeline, t1 - timedelta(microseconds=1)) == timeline[0]
    assert in_effect(timeline, t1) == timeline[2]
    assert next_change(timeline, T0) == t1
    assert next_change(timeline, t1) is None
    periods = with_periods(timeline)
    assert [p.effective_until for p in periods] == [t1, t1, None]


def test_plain_drops_trailing_zeros_and_text_never_uses_an_exponent() -> None:
    assert [str(plain(Decimal(text))) for text in ("1E+2", "0.0100", "0E-7")] == [
        "100",
        "0.01",
        "0",
    ]
    assert [decimal_text(Decimal(text)) for text in ("1E-10", "1E+2", "-0", "2.50")] == [
        "0.0000000001",
        "100",
        "0",
        "2.5",
    ]
