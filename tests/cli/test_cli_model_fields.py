"""The model fields of issue 17 from the shell: ``models add/set`` write them, ``models show``
and ``--columns`` print them, ``models list``/``models find`` filter on them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from cases import Cli

MODEL = """\
model_id: acme/vision-eu
provider: acme
context_window: 128000
max_output_tokens: 8192
input_modalities: [text, image]
output_modalities: [text]
mode: chat
release_date: 2024-05-13
knowledge_cutoff: 2023-10
open_weights: true
tags: {residency: eu, team: ml}
"""


def ids(cli: Cli, *args: str) -> list[str]:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return [model["model_id"] for model in json.loads(result.stdout)]


def test_add_show_and_filter_the_fields(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(MODEL, encoding="utf-8")
    assert cli("models", "add", str(path)).exit_code == 0
    shown = json.loads(cli("models", "show", "acme/vision-eu", "--json").stdout)
    assert shown["input_modalities"] == ["image", "text"]
    # YAML's date stays a day; a month stays a month.
    assert (shown["release_date"], shown["knowledge_cutoff"]) == ("2024-05-13", "2023-10")
    assert shown["open_weights"] is True
    assert shown["tags"] == {"residency": "eu", "team": "ml"}
    table = cli("models", "show", "acme/vision-eu").stdout
    assert "residency=eu,team=ml" in table
    assert "image,text" in table
    for command in ("list", "find"):
        assert ids(cli, "models", command, "--input-modality", "image") == ["acme/vision-eu"]
        assert ids(cli, "models", command, "--tag", "residency=eu", "--tag", "team=ml") == [
            "acme/vision-eu"
        ]
        assert ids(cli, "models", command, "--tag", "residency=us") == []
        assert ids(cli, "models", command, "--mode", "chat", "--open-weights") == ["acme/vision-eu"]
        assert ids(cli, "models", command, "--closed-weights") == []
        assert ids(cli, "models", command, "--output-modality", "text") == ["acme/vision-eu"]
    csv = cli(
        "models", "list", "--tag", "residency=eu", "--format", "csv",
        "--columns", "model_id,input_modalities,mode,open_weights,tags",
    ).stdout  # fmt: skip
    assert csv.splitlines() == [
        "model_id,input_modalities,mode,open_weights,tags",
        'acme/vision-eu,"image,text",chat,yes,"residency=eu,team=ml"',
    ]


def test_set_changes_tags_and_modalities_in_one_version(cli: Cli) -> None:
    result = cli(
        "models", "set", "llama3.1:8b", "input_modalities=text,image", "mode=chat",
        "tags.residency=eu", "tags.tier=1", "knowledge_cutoff=2023-12", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stored = json.loads(result.stdout)
    assert stored["version"] == 2
    assert stored["tags"] == {"residency": "eu", "tier": "1"}  # a tag's value is its text
    assert stored["input_modalities"] == ["image", "text"]
    removed = json.loads(cli("models", "set", "llama3.1:8b", "tags.tier=null", "--json").stdout)
    assert removed["tags"] == {"residency": "eu"}
    history = cli("models", "history", "llama3.1:8b").stdout
    assert "tags.tier: 1 -> None" in history


def test_bad_values_and_filters_are_clear_errors(cli: Cli) -> None:
    bad = cli("models", "set", "llama3.1:8b", "tags.Team=x")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: E4003")
    assert "tags" in bad.stderr
    assert json.loads(cli("models", "show", "llama3.1:8b", "--json").stdout)["version"] == 1
    for args, option in (
        (("--tag", "residency"), "--tag"),
        (("--input-modality", "smell"), "--input-modality"),
        (("--tag", "Residency=eu"), "--tag"),
        (("--mode", "telepathy"), "--mode"),
    ):
        result = cli("models", "find", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error:")
        assert option in result.stderr, result.stderr
