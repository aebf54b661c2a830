"""The command line as people expect it (issue 20), each point run as a user runs it.

Real processes of the console script; a pseudo-terminal of 80 (or 120) columns where the width
matters; both engines where the database matters. One catalog per engine for the module,
except where a test needs an empty one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from terminal import SCRIPT, environment, run, run_at_terminal

from cases import config
from modelregistry import ModelRegistry
from postgres_source import postgres_schema

if TYPE_CHECKING:
    from collections.abc import Iterator

EXPECTED = Path(__file__).parent / "expected"
LONG_ID = "accounts/fireworks/models/llama-v3p1-405"  # 40 characters
assert len(LONG_ID) == 40


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A catalog of the module, per engine: the defaults and a few more models."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
        _fill(url)
        yield url
        return
    server: str = request.getfixturevalue("postgres_url")
    with postgres_schema(server) as url:
        _fill(url)
        yield url


def _fill(url: str) -> None:
    with ModelRegistry(url, cache=False) as registry:
        registry.register_model(
            config(
                model_id="claude-3-opus-20240229",
                provider="anthropic",
                display_name="Claude 3 Opus",
                context_window=200000,
                cost_per_1m_input_tokens=15,
                cost_per_1m_output_tokens=75,
            ),
            actor="tests",  # the same on every machine: the stored tables show it
        )
        registry.register_model(
            config(
                model_id=LONG_ID,
                provider="fireworks",
                display_name="Llama 3.1 405B",
                context_window=131072,
                cost_per_1m_input_tokens=3,
                cost_per_1m_output_tokens=3,
                status="deprecated",
            )
        )


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's catalog on SQLite alone: for what does not depend on the engine."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'catalog.db'}"
    _fill(url)
    return url


@contextmanager
def empty_catalog(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Iterator[str]:
    """The URL of an empty database of ``backend``: a new SQLite file, or a fresh schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


def env_for(home: Path, url: str | None = None) -> dict[str, str]:
    extra = {} if url is None else {"MODELREGISTRY_DATABASE_URL": url}
    return environment(home, **extra)


# -- start-up ------------------------------------------------------------------------------

HEAVY = ("sqlalchemy", "pydantic", "alembic")
GROUPS = ("db", "models", "prices", "aliases", "metrics")


def test_help_of_the_root_and_of_every_group_loads_no_database_or_validation_library(
    home: Path,
) -> None:
    # The console script's own entry point, in a process that then lists what it imported.
    probe = (
        "import sys\n"
        "from modelregistry.cli import main\n"
        "sys.argv = ['modelregistry', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    for args in ([], *([group] for group in GROUPS)):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args, "--help"],
            env=env_for(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "Usage: modelregistry" in done.stdout, args
        assert done.stdout.rstrip().splitlines()[-1] == "LOADED []", args


def test_version_is_answered_before_typer_is_imported(home: Path) -> None:
    probe = (
        "import sys\n"
        "from modelregistry.cli import main\n"
        "sys.argv = ['modelregistry', '--version']\n"
        "main()\n"
        "print('typer' in sys.modules, 'rich' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env_for(home), capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[0].startswith("modelregistry ")
    assert done.stdout.splitlines()[1] == "False False"


# -- tables --------------------------------------------------------------------------------


def as_stored(name: str, shown: str) -> None:
    """``shown`` is, character for character, what tests/cli/expected/NAME holds.

    ``UPDATE_EXPECTED=1 pytest ...`` writes it instead: then read the diff before committing.
    """
    path = EXPECTED / name
    if os.environ.get("UPDATE_EXPECTED") == "1":
        path.write_text(shown)
    assert shown == path.read_text(), f"{name}:\n{shown}"


def fits(shown: str, columns: int) -> list[str]:
    lines = shown.splitlines()
    assert all(len(line) <= columns for line in lines), shown
    assert all(line == line.rstrip() for line in lines), "trailing spaces"
    return lines


WIDTHS = pytest.mark.parametrize("columns", [80, 120])


@WIDTHS
@pytest.mark.parametrize("only_active", [False, True], ids=["all", "active"])
def test_models_list_fits_the_terminal_as_stored(
    home: Path, catalog_url: str, columns: int, only_active: bool
) -> None:
    args = ["models", "list", *(["--status", "active"] if only_active else [])]
    code, shown = run_at_terminal(*args, env=env_for(home, catalog_url), columns=columns)
    assert code == 0, shown
    lines = fits(shown, columns)
    words = set(shown.replace(",", " ").split())
    # No word is cut: every id, provider and status stands whole, and every capability of a
    # shown list stands whole (a comma list wraps between its items).
    listed = json.loads(run(*args, "--json", env=env_for(home, catalog_url)).stdout)
    assert {m["model_id"] for m in listed} | {m["provider"] for m in listed} <= words
    assert {m["status"] for m in listed} <= words
    if "CAPABILITIES" in shown.splitlines()[1]:
        names = {
            n.removeprefix("supports_") for m in listed for n, v in m["capabilities"].items() if v
        }
        assert names <= words
    if not only_active:
        assert any(LONG_ID in line for line in lines), "a 40-character id stays whole"
    as_stored(f"models_list{'_active' if only_active else ''}_{columns}.txt", shown)


@WIDTHS
def test_models_show_fits_the_terminal_as_stored(home: Path, sqlite_url: str, columns: int) -> None:
    env = env_for(home, sqlite_url)
    code, shown = run_at_terminal("models", "show", LONG_ID, env=env, columns=columns)
    assert code == 0, shown
    fits(shown, columns)
    as_stored(f"models_show_{columns}.txt", shown)


def test_models_show_writes_numbers_as_the_list_does(home: Path, sqlite_url: str) -> None:
    env = env_for(home, sqlite_url)
    _, shown = run_at_terminal("models", "show", "claude-3-opus-20240229", env=env)
    _, listed = run_at_terminal("models", "list", "-q", "opus", env=env)
    assert re.search(r"^context_window +200,000$", shown, re.MULTILINE)
    assert re.search(r"^cost_per_1m_input_tokens +15$", shown, re.MULTILINE)
    assert "200,000" in listed
    assert "15/75" in listed
    assert "0.0" not in shown
    assert "200000" not in shown


REASON = "a long reason that has to wrap at eighty columns, between its words"


@pytest.fixture(scope="module")
def scheduled(home: Path, catalog_url: str) -> dict[str, str]:
    """A price from tomorrow on for claude-3-opus (today's, which other tests read, stay).

    Returns the instants that change from run to run, each with the placeholder that stands
    for it in the stored expectations (as wide, so the layout is the same).
    """
    env = env_for(home, catalog_url)
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run(
        "prices", "set", "claude-3-opus-20240229", "--input-price", "12.5",
        "--output-price", "60", "--from", later, "--reason", REASON, "--actor", "tests",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    history = json.loads(
        run("prices", "history", "claude-3-opus-20240229", "--json", env=env).stdout
    )
    registered = datetime.fromisoformat(history[0]["effective_from"])
    return {
        registered.strftime("%Y-%m-%dT%H:%M:%SZ"): "<registered>".ljust(20),
        later: "<tomorrow>".ljust(20),
    }


@WIDTHS
def test_prices_history_keeps_instants_whole_as_stored(
    home: Path, catalog_url: str, scheduled: dict[str, str], columns: int
) -> None:
    env = env_for(home, catalog_url)
    code, shown = run_at_terminal(
        "prices", "history", "claude-3-opus-20240229", env=env, columns=columns
    )
    assert code == 0, shown
    fits(shown, columns)
    instants = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown)
    registered, tomorrow = scheduled
    assert instants == [registered, tomorrow, tomorrow]  # whole: two periods, the first closed
    assert set(REASON.replace(",", "").split()) <= set(shown.replace(",", "").split())
    for instant, placeholder in scheduled.items():
        shown = shown.replace(instant, placeholder)
    as_stored(f"prices_history_{columns}.txt", shown)


# -- usage errors --------------------------------------------------------------------------


def _one_usage_line(done: subprocess.CompletedProcess[str], option: str, valid: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: modelregistry")
    assert option in done.stderr
    assert valid in done.stderr
    assert "╭" not in done.stderr  # no boxed panel


def test_bad_filter_values_are_usage_errors_naming_the_option(home: Path, catalog_url: str) -> None:
    # The registry checks these values (E4007): the command line reports them as usage errors.
    env = env_for(home, catalog_url)
    _one_usage_line(
        run("models", "list", "--status", "retired", env=env), "'--status'", "active, deprecated"
    )
    _one_usage_line(
        run("models", "find", "--order-by", "price", env=env), "'--order-by'", "quality.coding"
    )


@pytest.mark.parametrize(
    ("args", "option", "valid"),
    [
        (("models", "list", "--format", "xml"), "--format", "'table', 'json', 'csv'"),
        (("models", "list", "--bogus"), "--bogus", ""),
        (("export", "--format", "toml"), "--format", "'json', 'yaml'"),
        (("nosuch",), "nosuch", ""),
    ],
)
def test_usage_errors_are_one_error_line_naming_the_option_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], option: str, valid: str
) -> None:
    _one_usage_line(run(*args, env=env_for(tmp_path)), option, valid)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("catalog.db", "write sqlite:///catalog.db"),
        ("mysql://user@127.0.0.1/catalog", "MySQL is not supported"),
        ("sqlite:////no/such/directory/catalog.db", "its directory /no/such/directory does not"),
    ],
)
def test_database_url_mistakes_say_what_to_do(home: Path, url: str, said: str) -> None:
    done = run("--db", url, "models", "list", env=env_for(home))
    assert done.returncode == 1
    assert done.stderr.startswith("error: E4021: "), done.stderr  # not E4020: not retryable
    assert said in done.stderr
    assert done.stderr.count("\n") == 1


# -- honest about what happened ------------------------------------------------------------


def test_the_embedded_default_file_is_announced_once(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    first = run("models", "list", env=env)
    assert first.returncode == 0, first.stderr
    created = tmp_path / ".local" / "share" / "modelregistry" / "catalog.db"
    assert first.stderr == (
        f"note: created the catalog {created}, seeded with the default models "
        "(--db or $MODELREGISTRY_DATABASE_URL names another)\n"
    )
    assert created.exists()
    again = run("models", "list", env=env)
    assert (again.returncode, again.stderr) == (0, "")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_read_command_that_creates_the_schema_says_so_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def check(url: str) -> None:
        env = env_for(tmp_path, url)
        first = run("models", "list", "--json", env=env)
        assert first.returncode == 0, first.stderr
        assert first.stderr.startswith("note: the database was empty: created the catalog")
        assert "seeded the default models" in first.stderr
        assert len(json.loads(first.stdout)) == 3
        again = run("models", "list", "--json", env=env)
        assert (again.returncode, again.stderr) == (0, "")

    with empty_catalog(request, tmp_path, backend) as url:
        check(url)


def test_set_status_to_the_status_it_has_says_unchanged_and_records_nothing(
    home: Path, catalog_url: str
) -> None:
    env = env_for(home, catalog_url)
    versions = len(json.loads(run("models", "history", LONG_ID, "--json", env=env).stdout))
    done = run("models", "set-status", LONG_ID, "DEPRECATED", "--reason", "again", env=env)
    assert done.returncode == 0, done.stderr
    assert "unchanged" in done.stdout
    history = json.loads(run("models", "history", LONG_ID, "--json", env=env).stdout)
    assert len(history) == versions
    assert all(revision["reason"] != "again" for revision in history)


def test_show_at_a_time_before_the_model_existed_says_so(home: Path, catalog_url: str) -> None:
    env = env_for(home, catalog_url)
    before = (datetime.now(UTC) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = run("models", "show", "claude-3-opus-20240229", "--at", before, env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("error: E4001: ")
    assert f"did not exist at {before} (its first version is from " in done.stderr
    never = run("models", "show", "never-was", "--at", before, env=env)
    assert never.stderr == "error: E4001: model not found: 'never-was'\n"


# -- JSON ------------------------------------------------------------------------------------


def _money_values(data: Any) -> list[object]:
    found: list[object] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("cost") or key.endswith("_per_1m") or key == "price":
                found.extend(value if isinstance(value, list) else [value])
            else:
                found.extend(_money_values(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_money_values(item))
    return found


def test_money_is_exact_decimal_text_in_every_json_output(home: Path, catalog_url: str) -> None:
    env = env_for(home, catalog_url)
    # Every form money takes: a model's fields (list, show and history print the same
    # model_json and revision_json), the --columns values, a price, a cost.
    outputs = [
        ("models", "list", "--json"),
        ("models", "list", "--columns", "model_id,price,cost_per_1m_input_tokens", "--json"),
        ("models", "history", "claude-3-opus-20240229", "--json"),
        ("prices", "history", "claude-3-opus-20240229", "--json"),
        ("cost", "claude-3-opus-20240229", "--input-tokens", "3", "--output-tokens", "1", "--json"),
    ]
    for args in outputs:
        done = run(*args, env=env)
        assert done.returncode == 0, (args, done.stderr)
        values = [v for v in _money_values(json.loads(done.stdout)) if v is not None]
        assert values, args
        assert all(isinstance(v, str) and re.fullmatch(r"\d+(\.\d+)?", v) for v in values), (
            args,
            values,
        )


# -- help ----------------------------------------------------------------------------------


def test_the_root_and_every_group_help_end_with_an_example(home: Path) -> None:
    for args in ([], *([group] for group in GROUPS)):
        done = run(*args, "--help", env=env_for(home))
        assert done.returncode == 0
        assert done.stdout.rstrip().splitlines()[-1].strip().startswith("Example: modelregistry")


def test_every_option_has_help_and_a_readable_metavar() -> None:
    # In this process (one console-script process per command would cost ~30 s): the same
    # click commands, their help rendered as the console script renders it.
    from typer.main import get_command  # noqa: PLC0415 - the commands as click sees them
    from typer.testing import CliRunner  # noqa: PLC0415

    from modelregistry.cli import app  # noqa: PLC0415

    def leaves(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                yield from leaves(child, f"{path} {name}")
        yield path, command

    runner = CliRunner()
    for path, command in leaves(get_command(app), "modelregistry"):
        for param in command.params:
            if getattr(param, "hidden", False) or param.param_type_name != "option":
                continue
            assert param.help, f"{path} {param.opts[0]}: no help"
        shown = runner.invoke(app, [*path.split()[1:], "--help"]).stdout
        assert not re.search(r"<[a-z|\[\], ]+>", shown), (path, shown)
        assert "Example: modelregistry" in shown, path


def test_models_and_aliases_alone_list_and_query_searches_ids_and_names(
    home: Path, sqlite_url: str
) -> None:
    env = env_for(home, sqlite_url)
    alone = run("models", env=env)
    assert alone.returncode == 0
    rows = [line for line in alone.stdout.splitlines() if line[:1].isalnum()]
    assert [row.split()[0] for row in rows[1:]] == [
        LONG_ID,
        "claude-3-opus-20240229",
        "llama3.1:8b",
        "llama3.2:3b",
        "llava-llama3:latest",
    ]
    by_name = json.loads(run("models", "list", "-q", "OPUS", "--json", env=env).stdout)
    assert [m["model_id"] for m in by_name] == ["claude-3-opus-20240229"]
    by_id = json.loads(run("models", "list", "--query", "llama3.2", "--json", env=env).stdout)
    assert [m["model_id"] for m in by_id] == ["llama3.2:3b"]
    assert run("aliases", env=env).stdout == "no aliases\n"


# -- database commands ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_relative_revisions_history_stamp_and_offline_sql(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    def check(url: str) -> None:
        env = env_for(tmp_path, url)
        assert run("db", "upgrade", env=env).returncode == 0
        history = json.loads(run("db", "history", "--json", env=env).stdout)
        head = history[-1]["revision"]
        assert [r["current"] for r in history] == [False] * (len(history) - 1) + [True]
        down = run("db", "downgrade", "-1", "--yes", env=env)
        assert down.returncode == 0, down.stderr
        previous = history[-2]["revision"]
        assert down.stdout.strip() == f"database at revision {previous}"
        up = run("db", "upgrade", "+1", env=env)
        assert up.stdout.strip() == f"database at revision {head}"
        sql = run("db", "upgrade", "--sql", "--from", previous, env=env)
        assert sql.returncode == 0, sql.stderr
        assert "CREATE" in sql.stdout
        assert f"'{head}'" in sql.stdout  # it records the revision
        assert run("db", "stamp", previous, env=env).stdout.strip() == (
            f"database stamped at revision {previous}"
        )
        # From nothing too (applied by hand: tests/cli/test_cli_offline_sql.py).
        whole = run("db", "upgrade", "--sql", env=env)
        assert whole.returncode == 0, whole.stderr
        assert "INSERT INTO models" in whole.stdout

    with empty_catalog(request, tmp_path, backend) as url:
        check(url)


def test_a_destructive_downgrade_asks_at_a_terminal_and_wants_yes_elsewhere(
    tmp_path: Path,
) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'ask.db'}")
    assert run("db", "upgrade", env=env).returncode == 0
    code, shown = run_at_terminal("db", "downgrade", "0004", env=env, answer=b"n\n")
    assert "Downgrade to 0004? The data of the revisions undone is deleted [y/N]" in shown
    assert code == 1
    assert json.loads(run("db", "current", "--json", env=env).stdout)["up_to_date"] is True
    code, shown = run_at_terminal("db", "downgrade", "0004", env=env, answer=b"y\n")
    assert (code, "database at revision 0004" in shown) == (0, True)
    piped = run("db", "downgrade", "0003", env=env, stdin="")
    assert piped.returncode == 2
    assert "pass --yes to confirm" in piped.stderr
    assert "invalid value" not in piped.stderr.lower()


# -- long-running commands -----------------------------------------------------------------


def _start_ignoring_sigint(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    def ignore() -> None:  # as nohup and many supervisors start a process
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [str(SCRIPT), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore,  # noqa: PLW1509 - the point: the parent's ignored SIGINT
    )


def _read_line(process: subprocess.Popen[str], needle: str, deadline: float) -> str:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if needle in line:
            return line
        if not line and process.poll() is not None:
            break
    pytest.fail(f"no line with {needle!r}")


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_watch_stops_on_a_signal_even_started_with_sigint_ignored_and_says_what_changed(
    tmp_path: Path, number: signal.Signals
) -> None:
    url = f"sqlite:///{tmp_path / 'watched.db'}"
    env = env_for(tmp_path, url)
    file = tmp_path / "catalog.yaml"
    file.write_text(
        "models:\n  - {model_id: watched-1, provider: acme, context_window: 1000,\n"
        "     max_output_tokens: 100}\n"
    )
    with _start_ignoring_sigint(["watch", str(file)], env) as process:
        try:
            deadline = time.monotonic() + 60
            first = _read_line(process, "added 1", deadline)
            assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", first)
            assert first.rstrip().endswith(": added watched-1")
            file.write_text(
                "models:\n  - {model_id: watched-1, provider: acme, context_window: 2000,\n"
                "     max_output_tokens: 100}\n"
            )
            assert "changed watched-1" in _read_line(process, "changed 1", deadline)
            process.send_signal(number)
            rest, _ = process.communicate(timeout=30)
            assert process.returncode == 0
            assert "stopped" in rest
        finally:
            if process.poll() is None:
                process.kill()


def test_metrics_serve_stops_on_sigint_even_started_with_it_ignored(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'served.db'}")
    with _start_ignoring_sigint(["metrics", "serve", "--port", "0"], env) as process:
        try:
            _read_line(process, "serving http://", time.monotonic() + 60)
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=30)
            assert (process.returncode, rest.strip()) == (0, "stopped")
        finally:
            if process.poll() is None:
                process.kill()


def test_import_errors_name_the_file(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'files.db'}")
    broken = tmp_path / "broken.yaml"
    broken.write_text("models:\n  - {model_id: a\n")
    done = run("import", str(broken), env=env)
    assert done.returncode == 1
    assert str(broken) in done.stderr
    assert "<unicode string>" not in done.stderr
    assert "<mapping>" not in done.stderr


# -- one meaning per flag ------------------------------------------------------------------


def test_old_spellings_still_work_with_a_deprecation_warning(home: Path, sqlite_url: str) -> None:
    env = env_for(home, sqlite_url)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for old, new, warned in (
        (("models", "find", "-o", "cost", "--json"),
         ("models", "find", "--order-by", "cost", "--json"), "-o is deprecated"),
        (("models", "show", "llama3.1:8b", "--as-of", now, "--json"),
         ("models", "show", "llama3.1:8b", "--at", now, "--json"), "--as-of is deprecated"),
        (("cost", "llama3.1:8b", "--input", "10", "--output", "5", "--json"),
         ("cost", "llama3.1:8b", "--input-tokens", "10", "--output-tokens", "5", "--json"),
         "--input is deprecated"),
    ):  # fmt: skip
        before, after = run(*old, env=env), run(*new, env=env)
        assert before.returncode == 0, before.stderr
        assert before.stdout == after.stdout
        assert warned in before.stderr
        assert after.stderr == ""
    both = run("models", "show", "llama3.1:8b", "--at", now, "--as-of", now, env=env)
    assert both.returncode == 2


def test_port_has_no_short_form_and_provider_keeps_p(home: Path) -> None:
    done = run("metrics", "serve", "--help", env=env_for(home))
    assert "--port" in done.stdout
    assert not re.search(r"-p\b", done.stdout)
    assert "-p, --provider" in run("models", "list", "--help", env=env_for(home)).stdout


if os.name != "posix":  # pragma: no cover - pseudo-terminals and signals as on Linux
    pytest.skip("needs POSIX pseudo-terminals and signals", allow_module_level=True)
