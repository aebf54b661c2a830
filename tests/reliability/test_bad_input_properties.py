"""Property-based bad input: invalid configs, catalog files and CLI arguments, generated.

Each generated input carries at least one broken rule (a strategy per field knows values
that field must refuse). Every one is refused with our own error (E4003 naming the broken
field, E4005, or a one-line CLI error), never a library's exception or a traceback, and the
database is unchanged, compared as a dump (``cases.database_dump``) before and after.
Inputs that may be valid (random text as a catalog file) must be imported or refused, and
change nothing when refused.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cases import GPT4_TURBO, database_dump
from modelregistry import (
    InvalidCatalogFileError,
    InvalidModelConfigError,
    ModelRegistry,
    ModelStatus,
)
from modelregistry.cli import app
from modelregistry.domain.models import ModelConfig
from modelregistry.domain.rules import MAX_INTEGER

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability

# One database serves every example of a test on purpose: each example must leave it as it
# was, and that is what is checked. Modest example counts keep the suite fast.
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

printable = st.text(st.characters(codec="utf-8"), max_size=20)  # no lone surrogates
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats()
    | printable,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(printable, inner, max_size=3),
    max_leaves=6,
)
"""Any JSON-like value (so that it can be written in a JSON or YAML catalog file)."""

not_a_string = anything.filter(lambda value: not isinstance(value, str))


def _bad_text(bad_characters: str) -> st.SearchStrategy[Any]:
    """Values a name must refuse: not a string, empty, too long, or a forbidden character."""
    return (
        not_a_string.filter(lambda value: value is not None)
        | st.just("")
        | st.text(min_size=257, max_size=300, alphabet="abc")
        | st.builds(
            lambda head, bad, tail: head + bad + tail,
            printable,
            st.sampled_from(bad_characters),
            printable,
        )
    )


CONTROLS = "\t\n\x00\x1b\x7f\u200b\u2028\u00a0"
bad_id = _bad_text(" " + CONTROLS)
bad_name = _bad_text(CONTROLS)  # a display name may have spaces
bad_provider = bad_id | st.from_regex(r"[a-z]{0,3}[ /:@!*(][a-z]{0,3}", fullmatch=True)
bad_whole = (
    st.integers(max_value=0)
    | st.integers(min_value=MAX_INTEGER + 1, max_value=2**200)
    | st.floats()
    | st.booleans()
    | st.none()
    | printable
    | st.lists(st.integers(), max_size=2)
)
bad_count = bad_whole.filter(lambda value: value != 0)  # 0 is valid: "unknown"
bad_cost = (
    st.floats(max_value=-1e-6)
    | st.floats(min_value=10_000.01)
    | st.sampled_from([math.nan, math.inf, -math.inf, 1e-11, 0.123456789012])
    | st.booleans()
    | printable
    | st.none()
)
bad_score = (
    st.floats(max_value=-1e-6) | st.floats(min_value=1.000001) | st.just(math.nan) | printable
)
statuses = {status.value for status in ModelStatus}
bad_status = (printable.filter(lambda s: s.strip().lower() not in statuses)) | st.integers()
bad_date = st.sampled_from(["next spring", "2026-13-01", "31/12/2026", "", []]) | st.booleans()

QUALITY = {"reasoning", "coding", "creative", "summarization"}

BREAKERS: dict[str, st.SearchStrategy[Any]] = {
    "model_id": bad_id,
    "provider": bad_provider,
    "display_name": bad_name,
    "context_window": bad_whole,
    "max_output_tokens": bad_whole,
    "cost_per_1m_input_tokens": bad_cost,
    "cost_per_1m_output_tokens": bad_cost,
    "rate_limit_rpm": bad_count,
    "rate_limit_tpm": bad_count,
    "latency_p50_ms": bad_count,
    "status": bad_status,
    "quality_scores": st.sampled_from(sorted(QUALITY)).flatmap(
        lambda name: st.fixed_dictionaries({name: bad_score})
    )
    | st.dictionaries(printable.filter(lambda k: k not in QUALITY), st.just(0.5)).filter(bool)
    | not_a_string.filter(lambda v: not isinstance(v, dict) and v is not None),
    "capabilities": st.fixed_dictionaries({"supports_vision": not_a_string}).filter(
        lambda d: not isinstance(d["supports_vision"], bool)
    )
    | st.dictionaries(
        printable.filter(lambda k: not k.lower().startswith("supports_")), st.booleans()
    ).filter(bool)
    | st.lists(printable, min_size=1, max_size=2),
    "retirement_date": bad_date,
    "successor_model_id": bad_id.filter(lambda v: v is not None),
    "version": st.integers(min_value=0, max_value=2**70),
}
"""Per field, values that field must refuse."""

REQUIRED = ("model_id", "provider", "context_window", "max_output_tokens")


@st.composite
def broken_configs(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """GPT4_TURBO with one to three fields broken (or dropped, or an unknown one added)."""
    data = dict(GPT4_TURBO)
    broken: set[str] = set()
    for field in draw(st.lists(st.sampled_from(sorted(BREAKERS)), min_size=1, max_size=3)):
        data[field] = draw(BREAKERS[field])
        broken.add(field)
    if draw(st.booleans()):
        dropped = draw(st.sampled_from(REQUIRED))
        data.pop(dropped)
        broken.add(dropped)
    if draw(st.booleans()):
        unknown = draw(printable.filter(lambda k: k not in ModelConfig.model_fields))
        data[unknown] = draw(anything)
        broken.add(unknown)
    if "retirement_date" in broken and not isinstance(data["retirement_date"], str | list):
        data["retirement_date"] = "not a date"
    return data, broken


def _names_every_broken_field(error: InvalidModelConfigError, broken: set[str]) -> None:
    fields = [violation.field for violation in error.violations]
    for field in broken:
        assert any(f == field or f.startswith(f"{field}.") for f in fields), (
            f"{field} not named in {fields}"
        )


def _short(error: BaseException) -> None:
    text = str(error)
    assert len(text) < 10_000
    assert text.isprintable(), repr(text[:300])


@EXAMPLES
@given(case=broken_configs())
def test_generated_invalid_configs_are_refused_with_e4003_and_nothing_is_written(
    registry: ModelRegistry, database_url: str, case: tuple[dict[str, Any], set[str]]
) -> None:
    data, broken = case
    before = database_dump(database_url)
    with pytest.raises(InvalidModelConfigError) as raised:
        registry.register_model(data)
    _names_every_broken_field(raised.value, broken)
    _short(raised.value)
    json.dumps(raised.value.to_dict(), allow_nan=True)
    assert database_dump(database_url) == before


def _valid_entry(number: int) -> dict[str, Any]:
    return {**GPT4_TURBO, "model_id": f"file-model-{number}"}


@st.composite
def broken_documents(draw: st.DrawFn) -> object:
    """A catalog document with at least one problem: structure, version, entries, ids."""
    problem = draw(
        st.sampled_from(["top", "models", "version", "key", "entry", "duplicate", "entries"])
    )
    if problem == "top":
        return draw(anything.filter(lambda value: not isinstance(value, dict)))
    entries: list[object] = [_valid_entry(n) for n in range(draw(st.integers(0, 3)))]
    document: dict[str, object] = {"schema_version": 1, "models": entries}
    if problem == "models":
        document["models"] = draw(anything.filter(lambda value: not isinstance(value, list)))
    elif problem == "version":
        document["schema_version"] = draw(
            anything.filter(lambda value: value not in (1, 2)) | st.just(True)
        )
    elif problem == "key":
        key = draw(printable.filter(lambda k: k not in {"models", "schema_version"}))
        document[key] = draw(anything)
    elif problem == "duplicate":
        entries.extend([_valid_entry(9), _valid_entry(9)])
    elif problem == "entries":
        entries.insert(draw(st.integers(0, len(entries))), draw(anything))
    else:
        config, _ = draw(broken_configs())
        entries.insert(draw(st.integers(0, len(entries))), config)
    return document


def _write(path: Path, document: object, kind: str) -> None:
    if kind == "json":
        path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@EXAMPLES
@given(document=broken_documents(), kind=st.sampled_from(["yaml", "json"]), prune=st.booleans())
def test_generated_invalid_catalog_files_are_refused_with_e4005_and_nothing_is_written(
    registry: ModelRegistry, database_url: str, tmp_path: Path, document: object, **options: Any
) -> None:
    path = tmp_path / f"catalog.{options['kind']}"
    _write(path, document, options["kind"])
    before = database_dump(database_url)
    with pytest.raises(InvalidCatalogFileError) as raised:
        registry.import_catalog(path, prune=options["prune"])
    _short(raised.value)
    assert database_dump(database_url) == before


@EXAMPLES
@given(
    content=st.text(max_size=300) | st.binary(max_size=300),
    kind=st.sampled_from(["yaml", "json"]),
)
def test_random_bytes_as_a_catalog_file_are_imported_or_refused_cleanly(
    registry: ModelRegistry, database_url: str, tmp_path: Path, content: str | bytes, kind: str
) -> None:
    path = tmp_path / f"random.{kind}"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    before = database_dump(database_url)
    try:
        registry.import_catalog(path, prune=True)
    except InvalidCatalogFileError as error:
        _short(error)
        assert database_dump(database_url) == before


# -- the command line ----------------------------------------------------------------------

argv_text = st.text(st.characters(exclude_categories=()), max_size=30).filter(
    lambda text: not text.startswith("-")  # an option name is a usage error, not a value
)
"""Arguments as the OS gives them: any text, lone surrogates too (undecodable bytes)."""
unknown_id = argv_text.filter(
    lambda text: text not in {"llama3.1:8b", "llama3.2:3b", "llava-llama3:latest"}
)
number = st.integers(min_value=-(2**70), max_value=2**70).map(str) | argv_text


def _is_int(text: str, value: int) -> bool:
    """Whether the CLI would read ``text`` as ``value`` (int() takes " +1", "1_0", and digits
    of every script).
    """
    try:
        return int(text) == value
    except ValueError:
        return False


def _bad_status(text: str) -> bool:
    return text.strip().lower() not in statuses


COMMANDS: list[st.SearchStrategy[list[str]]] = [
    st.tuples(argv_text).map(lambda a: ["models", "show", *a]),
    st.tuples(argv_text).map(lambda a: ["models", "show", "llama3.1:8b", "--as-of", *a]),
    st.tuples(argv_text, argv_text).map(lambda a: ["models", "list", "-p", a[0], "-s", a[1]]),
    st.tuples(argv_text).map(lambda a: ["models", "list", "-c", *a, "--json"]),
    st.tuples(argv_text, argv_text).map(lambda a: ["models", "find", "-o", a[0], "-c", a[1]]),
    st.tuples(argv_text).map(lambda a: ["models", "find", "--min-quality", *a]),
    st.tuples(number).map(lambda a: ["models", "find", "--min-context", *a]),
    st.tuples(argv_text).map(lambda a: ["models", "history", *a]),
    st.tuples(number, number).map(lambda a: ["models", "diff", "llama3.1:8b", *a]),
    st.tuples(number).map(lambda a: ["models", "lifecycle", "--within-days", *a]),
    st.tuples(argv_text).map(lambda a: ["export", "--format", *a]),
    st.tuples(argv_text).map(lambda a: ["export", "--status", *a]),
    st.tuples(argv_text).map(lambda a: ["import", f"/nonexistent/{a[0]}.yaml"]),
    st.tuples(unknown_id, argv_text).map(lambda a: ["models", "set-status", *a]),
    st.tuples(argv_text.filter(_bad_status)).map(
        lambda a: ["models", "set-status", "llama3.1:8b", *a]
    ),
    st.tuples(unknown_id).map(lambda a: ["models", "remove", *a, "--reason", "fuzz"]),
    st.tuples(number.filter(lambda v: not _is_int(v, 1))).map(
        lambda a: ["models", "restore", "llama3.1:8b", *a]
    ),
    st.tuples(number.filter(lambda v: not _is_int(v, 1))).map(
        lambda a: ["models", "remove", "llama3.2:3b", "--expected-version", *a]
    ),
    st.tuples(argv_text).map(lambda a: ["models", "set-status", "llama3.1:8b", "x", "--actor", *a]),
]
"""Commands with generated arguments, each able to fail only: no write can succeed."""


def _exit_cleanly(output: str, exit_code: int, exception: BaseException | None) -> None:
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert "Traceback" not in output
    assert exit_code in {0, 1, 2}, output
    if exit_code == 1:
        assert output.startswith("error: E40"), output


@EXAMPLES
@given(args=st.one_of(COMMANDS))
@pytest.mark.usefixtures("registry")  # the catalog exists: commands reach the database
def test_generated_cli_arguments_never_give_a_traceback_or_a_write(
    database_url: str, args: list[str]
) -> None:
    before = database_dump(database_url)
    result = CliRunner().invoke(app, ["--db", database_url, *args], catch_exceptions=True)
    _exit_cleanly(result.stderr or result.stdout, result.exit_code, result.exception)
    is_write = args[:2] in (["models", "set-status"], ["models", "remove"], ["models", "restore"])
    if is_write:
        assert result.exit_code != 0, f"{args}: a write succeeded: {result.stdout}"
    assert database_dump(database_url) == before
