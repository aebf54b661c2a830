"""``modelregistry sync`` and ``overrides`` as an admin runs them: the plan as JSON and as a
table, dry runs, the guard's error line and exit code, overrides listed and reset, and the
provenance in ``models show``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from upstream_docs import encoded, litellm_entry, litellm_map

if TYPE_CHECKING:
    from pathlib import Path

    from cases import Cli


def write(tmp_path: Path, document: object, name: str = "map.json") -> str:
    path = tmp_path / name
    path.write_bytes(encoded(document))
    return str(path)


def test_sync_dry_run_json_prints_the_plan_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, litellm_map(60, bad=litellm_entry(0, max_input_tokens=0)))
    result = cli("sync", "litellm", path, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert len(plan["added"]) == 60
    assert plan["invalid"] == [
        {"model_id": "bad", "reason": "max_input_tokens must be a positive whole number"}
    ]
    assert plan["dry_run"] is True
    assert {"updated", "unchanged", "removed_upstream", "protected", "held"} <= set(plan)
    assert cli("models", "show", "m/1").exit_code == 1  # nothing was written


def test_sync_table_groups_the_plan_and_quiet_prints_totals(cli: Cli, tmp_path: Path) -> None:
    cli("sync", "litellm", write(tmp_path, litellm_map(60)))
    changed = litellm_map(60, **{"m/1": litellm_entry(1, max_output_tokens=99999)})
    result = cli("sync", "litellm", write(tmp_path, changed, "new.json"))
    assert result.exit_code == 0, result.output
    assert "1 updated, 59 unchanged" in result.stdout
    assert "UPDATED" in result.stdout
    assert "99999" in result.stdout
    quiet = cli("sync", "litellm", write(tmp_path, changed, "new.json"), "--quiet")
    assert quiet.stdout.count("\n") == 2


def test_sync_refused_by_a_guard_is_one_error_line_and_exit_1(cli: Cli, tmp_path: Path) -> None:
    result = cli("sync", "litellm", write(tmp_path, litellm_map(10)))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E4040: sync litellm refused")
    assert result.stderr.count("\n") == 1
    forced = cli("sync", "litellm", write(tmp_path, litellm_map(10)), "--force", "--json")
    assert len(json.loads(forced.stdout)["added"]) == 10


def test_overrides_list_and_reset_and_provenance_in_models_show(cli: Cli, tmp_path: Path) -> None:
    cli("sync", "litellm", write(tmp_path, litellm_map(60)))
    cli("models", "set-status", "m/3", "disabled")
    listed = cli("overrides", "list", "--json")
    assert json.loads(listed.stdout) == [
        {"model_id": "m/3", "field": "status", "local": "disabled", "upstream": "active"}
    ]
    assert "m/3" in cli("overrides", "list", "m/3").stdout
    reset = cli("overrides", "reset", "m/3", "status")
    assert reset.exit_code == 0
    assert json.loads(cli("overrides", "list", "--json").stdout) == []
    missing = cli("overrides", "reset", "m/3", "status")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: E4043")
    shown = json.loads(cli("models", "show", "m/3", "--json").stdout)
    assert shown["provenance"]["kind"] == "litellm"
    assert shown["provenance"]["location"].endswith("map.json")
    assert "litellm" in cli("models", "show", "m/3").stdout


def test_sync_dry_run_shows_a_rate_change_as_json_and_as_a_table(cli: Cli, tmp_path: Path) -> None:
    sonnet = {
        **litellm_entry(0),
        "litellm_provider": "anthropic",
        "cache_creation_input_token_cost": 3.75e-06,
        "input_cost_per_token_above_200k_tokens": 6e-06,
    }
    cli("sync", "litellm", write(tmp_path, litellm_map(60, sonnet=sonnet)))
    shown = json.loads(cli("prices", "show", "sonnet", "--json").stdout)
    assert len(shown["rates"]) == 2
    changed = litellm_map(60, sonnet={**sonnet, "cache_creation_input_token_cost": 4e-06})
    path = write(tmp_path, changed, "new.json")
    planned = cli("sync", "litellm", path, "--dry-run", "--json")
    assert json.loads(planned.stdout)["updated"] == [
        {
            "model_id": "sonnet",
            "fields": {
                "rates": [
                    "standard/0/cache_write_5m=3.75; standard/200000/input=6",
                    "standard/0/cache_write_5m=4; standard/200000/input=6",
                ]
            },
        }
    ]
    table = cli("sync", "litellm", path, "--dry-run")
    assert table.exit_code == 0, table.output
    assert "rates" in table.stdout
    squeezed = "".join(table.stdout.split())  # (the table wraps long values)
    assert "standard/0/cache_write_5m=3.75standard/0/cache_write_5m=4" in squeezed
    assert "input=6" not in squeezed  # the table shows only the rates that differ
    assert json.loads(cli("prices", "show", "sonnet", "--json").stdout) == shown  # not written


def test_rates_set_locally_survive_a_sync_and_overrides_reset_restores_upstreams(
    cli: Cli, tmp_path: Path
) -> None:
    sonnet = {**litellm_entry(0), "cache_creation_input_token_cost": 3.75e-06}
    cli("sync", "litellm", write(tmp_path, litellm_map(60, sonnet=sonnet)))
    edited = cli(
        "prices", "set", "sonnet", "--input-price", "2.5", "--output-price", "10",
        "--cached-input-price", "1.25", "--rate", "cache_write_5m=3", "--reason", "deal",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    changed = litellm_map(60, sonnet={**sonnet, "cache_creation_input_token_cost": 4e-06})
    synced = cli("sync", "litellm", write(tmp_path, changed, "new.json"), "--json")
    assert json.loads(synced.stdout)["protected"] == [
        {
            "model_id": "sonnet",
            "field": "rates",
            "local": "standard/0/cache_write_5m=3",
            "upstream": "standard/0/cache_write_5m=4",
        }
    ]
    price = json.loads(cli("prices", "show", "sonnet", "--json").stdout)
    assert [(r["component"], r["amount"]) for r in price["rates"]] == [("cache_write_5m", "3")]
    listed = cli("overrides", "list", "sonnet")
    assert "rates" in listed.stdout
    assert "cache_write_5m=4" in "".join(listed.stdout.split())
    reset = cli("overrides", "reset", "sonnet", "rates")
    assert reset.exit_code == 0, reset.output
    price = json.loads(cli("prices", "show", "sonnet", "--json").stdout)
    assert [(r["component"], r["amount"]) for r in price["rates"]] == [("cache_write_5m", "4")]
    assert json.loads(cli("overrides", "list", "--json").stdout) == []
