"""Prices, cost estimates and aliases, driven from the command line as a user would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cases import GPT4_TURBO
from modelregistry import ModelRegistry

if TYPE_CHECKING:
    from cases import Cli


def test_set_show_history_and_cost(cli: Cli, database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
    before = datetime.now(UTC).isoformat()
    result = cli(
        "prices", "set", "gpt-4-turbo", "--input-price", "2.5", "--output-price", "10",
        "--cached-input-price", "1.25", "--actor", "finops", "--reason", "price cut",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("gpt-4-turbo: 2.5/10 USD per 1M tokens from ")
    shown = json.loads(cli("prices", "show", "gpt-4-turbo", "--json").stdout)
    assert (shown["input_per_1m"], shown["cached_input_per_1m"], shown["actor"]) == (
        "2.5",
        "1.25",
        "finops",
    )
    then = json.loads(cli("prices", "show", "gpt-4-turbo", "--at", before, "--json").stdout)
    assert (then["input_per_1m"], then["effective_until"]) == ("10", shown["effective_from"])
    history = json.loads(cli("prices", "history", "gpt-4-turbo", "--json").stdout)
    assert [p["input_per_1m"] for p in history] == ["10", "2.5"]
    assert "price cut" in " ".join(cli("prices", "history", "gpt-4-turbo").stdout.split())
    # An exact decimal, at today's price and at the price of then.
    assert cli(
        "cost", "gpt-4-turbo", "--input-tokens", "1000", "--output-tokens", "2000"
    ).stdout == ("0.0225 USD\n")
    old = cli(
        "cost", "gpt-4-turbo", "--input-tokens", "1000", "--output-tokens", "2000", "--at", before
    )
    assert old.stdout == "0.07 USD\n"
    as_json = json.loads(
        cli("cost", "gpt-4-turbo", "--input-tokens", "0", "--output-tokens", "0",
            "--cached-input-tokens", "1000",
            "--json").stdout
    )  # fmt: skip
    assert as_json == {"model_id": "gpt-4-turbo", "currency": "USD", "cost": "0.00125"}


def test_a_scheduled_price_from_the_command_line(cli: Cli) -> None:
    start = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    result = cli(
        "prices", "set", "llama3.1:8b", "--input-price", "1", "--output-price", "2", "--from", start
    )
    assert result.exit_code == 0, result.stderr
    assert cli("prices", "show", "llama3.1:8b", "--json").stdout.count('"input_per_1m": "0"') == 1
    later = json.loads(cli("prices", "show", "llama3.1:8b", "--at", start, "--json").stdout)
    assert later["input_per_1m"] == "1"


def test_bad_prices_and_unknown_models_fail_with_one_line_and_exit_1(cli: Cli) -> None:
    negative = cli("prices", "set", "llama3.1:8b", "--input-price", "-1", "--output-price", "2")
    assert negative.exit_code == 1
    assert negative.stderr.startswith("error: E4003: ")
    assert "input_per_1m" in negative.stderr
    past = cli(
        "prices",
        "set",
        "llama3.1:8b",
        "--input-price",
        "1",
        "--output-price",
        "2",
        "--from",
        "2001-01-01",
    )
    assert (past.exit_code, "effective_from" in past.stderr) == (1, True)
    unknown = cli("cost", "nope", "--input-tokens", "1", "--output-tokens", "1")
    assert (unknown.exit_code, unknown.stderr.startswith("error: E4001")) == (1, True)
    usage = cli("cost", "llama3.1:8b", "--input-tokens", "-5", "--output-tokens", "1")
    assert usage.exit_code == 2
    bad_time = cli("prices", "show", "llama3.1:8b", "--at", "yesterday")
    assert bad_time.exit_code == 2
    assert "--at" in bad_time.stderr


def test_aliases_set_list_use_and_remove(cli: Cli) -> None:
    assert cli("aliases", "list").stdout == "no aliases\n"
    result = cli("aliases", "set", "llama", "llama3.1:8b", "--actor", "ops", "--reason", "short")
    assert (result.exit_code, result.stdout) == (0, "llama -> llama3.1:8b\n")
    listed = json.loads(cli("aliases", "list", "--json").stdout)
    assert [(a["alias"], a["model_id"], a["actor"], a["reason"]) for a in listed] == [
        ("llama", "llama3.1:8b", "ops", "short")
    ]
    assert "llama3.1:8b" in cli("aliases", "list").stdout
    shown = json.loads(cli("models", "show", "llama", "--json").stdout)
    assert shown["model_id"] == "llama3.1:8b"
    assert cli("cost", "llama", "--input-tokens", "10", "--output-tokens", "10").stdout == "0 USD\n"
    refused = cli("aliases", "set", "llama3.2:3b", "llama3.1:8b")
    assert (refused.exit_code, refused.stderr.startswith("error: E4003")) == (1, True)
    removed = cli("aliases", "remove", "llama")
    assert removed.stdout == "llama: removed (it named llama3.1:8b)\n"
    again = cli("aliases", "remove", "llama")
    assert (again.exit_code, again.stderr.startswith("error: E4008: alias not found")) == (1, True)
