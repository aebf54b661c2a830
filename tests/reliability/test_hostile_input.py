"""Hostile content: SQL metacharacters, unicode, absurd numbers, nasty YAML, wrong types.

Every case is either stored and read back exactly, or refused with one of our errors whose
message stays short and printable; a refused input leaves the database as it was (compared
as a dump). Random inputs of the same kinds are in ``test_bad_input_properties.py``.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from cases import GPT4_TURBO, config, database_dump
from modelregistry import (
    InvalidArgumentError,
    InvalidCatalogFileError,
    InvalidModelConfigError,
    ModelConfig,
    ModelRegistry,
)
from modelregistry.cli import app
from modelregistry.errors import MAX_LISTED_PROBLEMS, shown
from modelregistry.service.catalog_files import read_catalog_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.reliability

SHORT = 2000
"""Longest message a refused value may give: hostile input must not make it huge."""
SHORT_LIST = 10_000
"""Longest message a refused file may give (it lists up to MAX_LISTED_PROBLEMS problems)."""
DEADLINE = 30.0
"""Generous bound on refusing one hostile file (they take milliseconds)."""

# Ids that are valid (no whitespace, no control characters) yet mean something to SQL, LIKE,
# shells, terminals, rich markup or Unicode normalisation.
HOSTILE_IDS = [
    "x';DROP_TABLE_models;--",
    "a'b\"c",
    "%",
    "_",
    "a%b_c",
    "\\",
    "back\\slash\\'",
    "$(reboot)",
    "`id`;${HOME}",
    "<script>alert(1)</script>",
    "[bold]x[/bold]",
    ":llama:",
    "NULL",
    "0",
    "🦙:70b",
    "модель",
    "模型-中文",
    "\u00e9",  # é, one code point
    "e\u0301",  # e and a combining acute: another id, compared by code point
    "\ufb01",  # the ligature fi, which NFKC would fold to "fi"
    "a/b:c@d#e?f&g=h",
]


def _short_and_printable(error: BaseException, limit: int = SHORT) -> None:
    text = str(error)
    assert len(text) < limit, text[:300]
    assert text.isprintable(), repr(text[:300])


def test_metacharacters_and_unicode_in_ids_and_names_round_trip_exactly(
    registry: ModelRegistry, database_url: str, tmp_path: Path
) -> None:
    stored = [
        registry.register_model(
            config(
                model_id=model_id,
                provider="o_brien.ai-1",
                display_name=f"Robert'); DROP TABLE models;-- {model_id} ∑ 🦙",
            )
        )
        for model_id in HOSTILE_IDS
    ]
    with ModelRegistry(database_url, cache=False) as direct:
        for reader in (registry, direct):
            for model in stored:
                assert reader.get_model_or_raise(model.model_id) == model
                assert reader.get_model_history(model.model_id)[-1].config == model
            listed = reader.get_models_by_provider("O_Brien.AI-1")
            assert [m.model_id for m in listed] == sorted(HOSTILE_IDS)
            # No pattern matching anywhere: a wildcard is only itself.
            assert reader.get_model("%_") is None
            assert reader.list_models(provider="%") == []
            assert reader.list_models(provider="o_brien.ai-_") == []
            assert reader.get_stats()["total_models"] == 3 + len(HOSTILE_IDS)
    # Export and import carry them byte for byte, in YAML and JSON.
    for suffix in ("yaml", "json"):
        path = tmp_path / f"hostile.{suffix}"
        registry.export_catalog(path)
        with ModelRegistry("sqlite://") as copy:
            copy.import_catalog(path, prune=True)
            assert copy.list_models() == registry.list_models()


def test_the_cli_prints_hostile_ids_and_reasons_verbatim_but_never_as_terminal_codes(
    registry: ModelRegistry, database_url: str
) -> None:
    registry.register_model(config(model_id="[bold]x[/bold]", provider="p"))
    escape = "\x1b]0;pwned\x07\x1b[2J"
    registry.update_model_status("[bold]x[/bold]", "deprecated", reason=f"see {escape}\nthen")
    # color=True: output as to a terminal, where nothing would strip an escape sequence.
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", database_url, *args], color=True)
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "[bold]x[/bold]" in run("models", "list", "--provider", "p")
    history = run("models", "history", "[bold]x[/bold]")
    assert "\x1b" not in history
    assert "\x07" not in history
    assert "see \\x1b]0;pwned\\x07\\x1b[2J\\nthen" in history
    as_json = json.loads(run("models", "history", "[bold]x[/bold]", "--json"))
    assert as_json[-1]["reason"] == f"see {escape}\nthen"  # JSON escapes it; kept exactly
    missing = runner.invoke(app, ["--db", database_url, "models", "show", escape], color=True)
    assert missing.exit_code == 1
    assert "\x1b" not in missing.stderr


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"context_window": 10**5000}, "context_window"),  # str() of it would raise
        ({"context_window": 2**63}, "context_window"),
        ({"max_output_tokens": -(2**80)}, "max_output_tokens"),
        ({"cost_per_1m_input_tokens": float("nan")}, "cost_per_1m_input_tokens"),
        ({"cost_per_1m_input_tokens": float("-inf")}, "cost_per_1m_input_tokens"),
        ({"cost_per_1m_output_tokens": 1e308 * 10}, "cost_per_1m_output_tokens"),
        ({"cost_per_1m_output_tokens": Decimal("1e999999")}, "cost_per_1m_output_tokens"),
        ({"cost_per_1m_input_tokens": Decimal("sNaN")}, "cost_per_1m_input_tokens"),
        ({"quality_scores": {"coding": 10**400}}, "quality_scores.coding"),
        ({"quality_scores": {"coding": float("inf")}}, "quality_scores.coding"),
        ({"latency_p99_ms": 10**30}, "latency_p99_ms"),
        ({"rate_limit_rpm": 1e3}, "rate_limit_rpm"),
        ({"display_name": "x" * 10_000_000}, "display_name"),
        ({"model_id": "m" * 10_000_000}, "model_id"),
        ({"display_name": [[[[[[[[[[[["deep"]]]]]]]]]]]]}, "display_name"),
        ({"quality_scores": {1: 0.5}}, "quality_scores"),  # YAML allows such keys
        ({"capabilities": {None: True}}, "capabilities"),
        ({"status": ["active"]}, "status"),
        ({"provider": ["openai"]}, "provider"),
        ({"retirement_date": 20270101}, "retirement_date"),
        ({"successor_model_id": {"$ne": None}}, "successor_model_id"),
        ({"x" * 1_000_000: 1}, "x"),
    ],
    ids=lambda v: shown(v)[:40] if isinstance(v, dict) else str(v),
)
def test_absurd_values_and_wrong_types_are_refused_clearly(
    changes: dict[Any, Any], field: str
) -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig.model_validate({**GPT4_TURBO, **changes})
    _short_and_printable(raised.value)
    assert any(v.field.startswith(field) for v in raised.value.violations)
    json.dumps(raised.value.to_dict(), allow_nan=True)  # serialisable, whatever the value


def _deep_list(depth: int) -> object:
    value: object = []
    for _ in range(depth):
        value = [value]
    return value


def test_non_string_keys_and_nesting_beyond_the_recursion_limit_are_refused(
    registry: ModelRegistry, database_url: str
) -> None:
    before = database_dump(database_url)
    keys_not_strings: dict[Any, Any] = {1: 2, None: 3}
    refusals: list[Callable[[], object]] = [
        lambda: registry.register_model(keys_not_strings),
        lambda: registry.register_model(config(quality_scores={1: 0.5})),
        lambda: registry.register_model(config(display_name=_deep_list(100_000))),
        lambda: registry.register_model(config(capabilities=_deep_list(100_000))),
    ]
    for refuse in refusals:
        with pytest.raises(InvalidModelConfigError) as raised:
            refuse()
        _short_and_printable(raised.value)
    assert database_dump(database_url) == before


def test_values_planted_by_model_copy_are_refused_without_library_warnings(
    registry: ModelRegistry, database_url: str
) -> None:
    # pytest turns warnings into errors here: pydantic's serializer warnings would fail it.
    model = ModelConfig(**GPT4_TURBO)
    before = database_dump(database_url)
    for update in (
        {"context_window": [1]},
        {"capabilities": 5},
        {"quality_scores": {"humour": 1}},
        {"status": "retired"},
        {"cost_per_1m_input_tokens": float("nan")},
    ):
        with pytest.raises(InvalidModelConfigError) as raised:
            registry.register_model(model.model_copy(update=update))
        assert raised.value.violations[0].field.startswith(next(iter(update)))
    assert database_dump(database_url) == before


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
def test_numbers_beyond_the_database_in_arguments_are_e4007_on_every_path(
    database_url: str, cached: bool
) -> None:
    too_big = 2**63
    calls: list[tuple[str, Callable[[ModelRegistry], object]]] = [
        ("version", lambda r: r.get_model_version("llama3.1:8b", too_big)),
        ("version", lambda r: r.restore_model("llama3.1:8b", too_big)),
        ("version", lambda r: r.diff_versions("llama3.1:8b", 1, too_big)),
        ("expected_version", lambda r: r.remove_model("llama3.1:8b", expected_version=too_big)),
        ("within_days", lambda r: r.get_models_retiring(10**30)),
        ("min_context_window", lambda r: r.find_models(min_context_window=too_big)),
        ("limit", lambda r: r.find_models(limit=10**5000)),
        ("min_quality.coding", lambda r: r.find_models(min_quality={"coding": 10**5000})),
        ("max_cost_per_1m_input", lambda r: r.find_models(max_cost_per_1m_input=10**400)),
    ]
    with ModelRegistry(database_url, cache=cached) as registry:
        before = database_dump(database_url)
        for field, call in calls:
            with pytest.raises(InvalidArgumentError) as raised:
                call(registry)
            assert raised.value.violations[0].field == field
            _short_and_printable(raised.value)
        assert database_dump(database_url) == before


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join([*lines, "models: []", ""])


ENTRY = "models:\n  - {model_id: a, provider: p, context_window: 1, max_output_tokens: 1"

HOSTILE_FILES = {
    "nan.json": ('{"models": [{"model_id": "a", "cost_per_1m_input_tokens": NaN}]}', "finite"),
    "infinity.json": ('{"models": [{"model_id": "a", "latency_p50_ms": Infinity}]}', "integer"),
    "overflow.json": ('{"models": [{"quality_scores": {"coding": 1e400}}]}', "finite"),
    "long-int.json": ('{"models": [{"context_window": ' + "9" * 5000 + "}]}", "digits"),
    "long-int.yaml": ("models:\n  - context_window: " + "9" * 5000 + "\n", "digits"),
    "nan.yaml": (ENTRY + ", cost_per_1m_output_tokens: .nan}\n", "finite"),
    "inf.yaml": (ENTRY + ", quality_scores: {coding: -.inf}}\n", "finite"),
    "dup-nested.yaml": (ENTRY + ", provider: q}\n", "duplicate key 'provider'"),
    "dup-nested.json": ('{"models": [{"model_id": "a", "model_id": "b"}]}', "duplicate key"),
    "dup-differ-in-type.yaml": (ENTRY + ", 1: x, '1': y}\n", "field names must be strings"),
    "deep-flow.yaml": ("models: " + "[" * 100_000 + "]" * 100_000 + "\n", "nesting depth"),
    "deep-block.yaml": ("".join("  " * i + "- \n" for i in range(5000)), "nesting depth"),
    "deep-mapping.json": ('{"a":' * 100_000 + "1" + "}" * 100_000, "not valid JSON"),
    "billion-laughs.yaml": (_billion_laughs(), "aliases"),
    "merge-key.yaml": ("base: &b {provider: p}\nmodels:\n  - {<<: *b, model_id: a}\n", "aliases"),
    "non-string-key.yaml": (ENTRY + ", [1, 2]: 3}\n", "not valid YAML"),
    "python-tag.yaml": ("models: !!python/object/apply:os.system ['id']\n", "not valid YAML"),
    "binary.yaml": (ENTRY.replace("model_id: a", "model_id: !!binary aGk=") + "}\n", "string"),
    "set.yaml": ("models: !!set {a, b}\n", "must be a list"),
    "timestamp.yaml": (ENTRY.replace("model_id: a", "model_id: 2001-12-14") + "}\n", "string"),
    "wrong-types.yaml": (
        (
            "models:\n  - {model_id: [a], provider: {p: 1}, context_window: '1', "
            "max_output_tokens: true, capabilities: [vision], status: 3}\n"
        ),
        "models[0].model_id",
    ),
    "escape-in-id.json": ('{"models": [{"model_id": "a\\u001b[2Jb"}]}', "models[0](a\\x1b[2Jb)"),
    "huge-string.yaml": (ENTRY + ", display_name: '" + "x" * 5_000_000 + "'}\n", "1-256"),
    "many-problems.yaml": ("models:\n" + "  - 1\n" * 100_000, f"and {100_000 - 100} more"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_catalog_files_are_refused_safely_and_clearly(tmp_path: Path, name: str) -> None:
    text, rule = HOSTILE_FILES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(InvalidCatalogFileError) as raised:
        read_catalog_file(path)
    assert time.monotonic() - started < DEADLINE
    assert rule in str(raised.value)
    _short_and_printable(raised.value, SHORT_LIST)
    json.dumps(raised.value.to_dict(), allow_nan=True)


def test_a_refused_hostile_file_leaves_the_database_unchanged(
    registry: ModelRegistry, database_url: str, tmp_path: Path
) -> None:
    before = database_dump(database_url)
    for name, (text, _) in sorted(HOSTILE_FILES.items()):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidCatalogFileError):
            registry.import_catalog(path, prune=True)
    assert database_dump(database_url) == before
    assert registry.get_stats()["total_models"] == 3


def test_the_cli_lists_at_most_a_bounded_number_of_problems(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "many-problems.yaml"
    path.write_text(HOSTILE_FILES["many-problems.yaml"][0])
    result = CliRunner().invoke(app, ["--db", database_url, "import", str(path)])
    assert result.exit_code == 1
    # The first use of the database is announced (a "note:" line) before the error.
    lines = [line for line in result.stderr.splitlines() if not line.startswith("note: ")]
    assert lines[0].endswith(": 100000 problems")
    assert len(lines) == 1 + MAX_LISTED_PROBLEMS + 1
    assert lines[-1] == f"  ... and {100_000 - MAX_LISTED_PROBLEMS} more"
