"""E4003 or E4007: a value to be stored breaks a rule of the data, an argument a rule of the call.

The rule is in the docstring of ``modelregistry.errors``; these cases hold the argument checks
to it without a database. Either error is a ValueError naming the argument in ``violations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from modelregistry import AsyncModelRegistry, InvalidArgumentError, InvalidModelConfigError
from modelregistry.domain.arguments import (
    alias_name,
    capability_names,
    checked_config,
    instant,
    poll_seconds,
    status_argument,
    string_argument,
    version_guard,
    whole_number,
)
from modelregistry.domain.models import parse_status
from modelregistry.domain.pricing import money, tokens
from modelregistry.domain.query import build_query

if TYPE_CHECKING:
    from collections.abc import Callable

NAIVE = datetime(2030, 1, 1)  # noqa: DTZ001 - naive on purpose

QUERY: dict[str, Any] = {
    "capabilities": (),
    "any_capabilities": (),
    "providers": None,
    "statuses": None,
    "min_context_window": None,
    "min_max_output_tokens": None,
    "max_cost_per_1m_input": None,
    "max_cost_per_1m_output": None,
    "min_quality": None,
    "max_latency_p50_ms": None,
    "order_by": None,
    "limit": None,
}

ARGUMENTS: dict[str, tuple[Callable[[], object], str]] = {
    "model_id not a string": (lambda: string_argument(42, "model_id"), "model_id"),
    "provider not a string": (lambda: string_argument(None, "provider"), "provider"),
    "capabilities a string": (lambda: capability_names("vision"), "capabilities"),
    "as_of naive": (lambda: instant(NAIVE), "as_of"),
    "at naive": (lambda: instant(NAIVE, "at"), "at"),
    "status to match": (lambda: status_argument("retired"), "status"),
    "version negative": (lambda: whole_number(-1, "version"), "version"),
    "within_days a float": (lambda: whole_number(1.5, "within_days"), "within_days"),
    "expected_version": (lambda: version_guard(-1), "expected_version"),
    "poll_interval zero": (lambda: poll_seconds(0), "poll_interval"),
    "token count": (lambda: tokens(-1, "input_tokens"), "input_tokens"),
    "order_by": (lambda: build_query(**{**QUERY, "order_by": "speed"}), "order_by"),
    "limit": (lambda: build_query(**{**QUERY, "limit": -1}), "limit"),
    "statuses": (lambda: build_query(**{**QUERY, "statuses": ["retired"]}), "statuses"),
    "min_quality key": (lambda: build_query(**{**QUERY, "min_quality": {"x": 1}}), "min_quality"),
    "min bound": (
        lambda: build_query(**{**QUERY, "min_context_window": -1}),
        "min_context_window",
    ),
    "async poll_interval": (
        lambda: AsyncModelRegistry("sqlite://", poll_interval=-1),
        "poll_interval",
    ),
}

STORED: dict[str, tuple[Callable[[], object], str]] = {
    "a config that is not one": (lambda: checked_config(["gpt-4"]), "model"),  # type: ignore[arg-type]
    "a model's new status": (lambda: parse_status("retired"), "status"),
    "a price's amount": (lambda: money(-1, "input_per_1m"), "input_per_1m"),
    "a price's start": (lambda: instant(NAIVE, "effective_from", stored=True), "effective_from"),
    "an alias's name": (lambda: alias_name(42), "alias"),
}


@pytest.mark.parametrize(("call", "field"), ARGUMENTS.values(), ids=ARGUMENTS.keys())
def test_an_argument_that_steers_a_call_is_e4007(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        call()
    assert raised.value.code == "E4007"
    assert [v.field for v in raised.value.violations] == [field]
    assert str(raised.value).startswith(f"E4007: invalid argument: {field}: ")


@pytest.mark.parametrize(("call", "field"), STORED.values(), ids=STORED.keys())
def test_a_value_to_be_stored_is_e4003(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        call()
    assert raised.value.code == "E4003"
    assert [v.field for v in raised.value.violations] == [field]


BOTH = {**ARGUMENTS, **STORED}


@pytest.mark.parametrize("call", [call for call, _ in BOTH.values()], ids=BOTH.keys())
def test_both_are_value_errors(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"^E400[37]: "):
        call()
