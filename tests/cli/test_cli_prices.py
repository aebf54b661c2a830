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


def test_rates_tiers_and_the_cost_breakdown_from_the_command_line(
    cli: Cli, database_url: str
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
    result = cli(
        "prices", "set", "gpt-4-turbo", "--input-price", "2", "--output-price", "8",
        "--rate", "cache_write_1h=4", "--rate", "input@200000=4",
        "--rate", "batch:input=1", "--rate", "batch:output=4",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "(and 4 more rates)" in result.stdout
    shown = json.loads(cli("prices", "show", "gpt-4-turbo", "--json").stdout)
    assert shown["rates"][1] == {
        "component": "input",
        "amount": "4",
        "service_tier": "standard",
        "above_tokens": 200000,
    }
    table = " ".join(cli("prices", "show", "gpt-4-turbo").stdout.split())
    assert "batch 0 output 4" in table
    # 200,001 prompt tokens: the 200k tier's input; the 1h write keeps its base rate.
    asked = ("cost", "gpt-4-turbo", "--input-tokens", "200000", "--output-tokens", "10",
             "--cache-write-tokens", "1", "--cache-write-ttl", "1h")  # fmt: skip
    assert cli(*asked).stdout == "0.800084 USD\n"
    as_json = json.loads(cli(*asked, "--json", "--breakdown").stdout)
    assert as_json["cost"] == as_json["breakdown"]["total"] == "0.800084"
    assert as_json["breakdown"]["context_tier"] == 200000
    batch = cli("cost", "gpt-4-turbo", "--input-tokens", "10", "--output-tokens", "0",
                "--cached-input-tokens", "10", "--service-tier", "batch",
                "--breakdown")  # fmt: skip
    assert batch.stdout.splitlines()[0] == "0.00002 USD"
    assert "(input rate: no cached_input rate)" in " ".join(batch.stdout.split())
    # Refused: an unknown tier (usage error naming the option), a missing rate (E4090).
    bad = cli("cost", "gpt-4-turbo", "--input-tokens", "1", "--output-tokens", "1",
              "--service-tier", "gold")  # fmt: skip
    assert bad.exit_code == 2
    assert "--service-tier" in bad.stderr
    assert "batch" in bad.stderr
    missing = cli("cost", "gpt-4-turbo", "--input-tokens", "200001", "--output-tokens", "0",
                  "--service-tier", "batch")  # fmt: skip
    assert missing.exit_code == 1
    assert "E4090" in missing.stderr
    assert "batch" in missing.stderr
    for rate in ("input", "batch:input@20k=1", ":input=1"):
        wrong = cli("prices", "set", "gpt-4-turbo", "--input-price", "2", "--output-price", "8",
                    "--rate", rate)  # fmt: skip
        assert wrong.exit_code == 2, rate
        assert "--rate" in wrong.stderr
    unknown = cli("prices", "set", "gpt-4-turbo", "--input-price", "2", "--output-price", "8",
                  "--rate", "turbo:input=1")  # fmt: skip
    assert unknown.exit_code != 0
    assert "rates[0].service_tier" in unknown.stderr
    assert len(json.loads(cli("prices", "history", "gpt-4-turbo", "--json").stdout)) == 2
