"""The database password never appears: not in errors, logs, CLI output, repr or stats.

A throwaway PostgreSQL server that demands the password (scram-sha-256) is worked normally,
cut off and brought back, and asked with a wrong password; unusable URLs that carry a
password are tried too. Everything the library says on the way is searched for the
password, in plain and in URL-encoded form: str, repr and to_dict() of every error and of
every exception chained to it (what a logged traceback shows), every log record at DEBUG
(SQLAlchemy's and psycopg's included), get_stats(), the Prometheus metrics and /healthz, and
the CLI's output (``info`` included).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cases import GPT4_TURBO, config
from modelregistry import DatabaseUnavailableError, ModelRegistry, ModelRegistryError
from modelregistry.cli import app
from throwaway_postgres import ThrowawayPostgres, throwaway_postgres

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.reliability

# Characters that need URL encoding, so that both spellings are searched for.
SECRET = "Pw-s3cr3t/p@ss:w%rd"  # noqa: S105 - the test's own throwaway password
FORMS = (SECRET, quote(SECRET, safe=""), "s3cr3t")
DEADLINE = 60.0
CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"


def assert_secret_free(*texts: object) -> None:
    for text in texts:
        rendered = text if isinstance(text, str) else repr(text)
        for form in FORMS:
            assert form not in rendered, f"the password leaked into: {rendered[:500]}"


def assert_error_secret_free(error: BaseException) -> None:
    """The error, its dict, and the whole chain as a logged traceback would show it."""
    assert isinstance(error, ModelRegistryError), f"not our error: {error!r}"
    assert_secret_free(
        str(error),
        repr(error),
        json.dumps(error.to_dict(), default=str),
        "".join(traceback.format_exception(error)),
    )


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > limit:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def with_password(url: str, password: str) -> str:
    rendered: str = make_url(url).set(password=password).render_as_string(hide_password=False)
    return rendered


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres(password=SECRET) as running:
        if running is None:
            pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
        assert quote(SECRET, safe="") in running.url or SECRET in running.url
        yield running


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "psycopg", "alembic", "modelregistry"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_logs_secret_free(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "nothing was logged: the capture is not working"
    for record in caplog.records:
        assert_secret_free(record.getMessage(), record.exc_text or "", record.args or "")
    assert_secret_free(caplog.text)


def _url(server: ThrowawayPostgres) -> str:
    # The server's URL, encoded the way SQLAlchemy writes it (what a user would paste).
    return with_password(server.url, SECRET)


def test_working_losing_and_regaining_the_database_never_shows_the_password(
    server: ThrowawayPostgres, everything_logged: pytest.LogCaptureFixture
) -> None:
    url = _url(server)
    with (
        ModelRegistry(url, poll_interval=0.05) as registry,
        ModelRegistry(url, cache=False) as writer,
        ModelRegistry(url, cache=False, poll_interval=0.05) as uncached,
    ):
        writer.register_model(GPT4_TURBO)
        wait_for(lambda: registry.get_model("gpt-4-turbo") is not None, "the cache")
        registry.subscribe(lambda _event: None)
        assert "***" in repr(registry)
        assert "***" in registry.url
        assert_secret_free(repr(registry), registry.url, json.dumps(registry.get_stats()))
        assert_secret_free(registry.export_catalog(), registry.get_model_history("gpt-4-turbo"))
        assert_metrics_secret_free(registry, uncached, healthy=True)

        server.stop()
        try:
            wait_for(lambda: registry.get_stats()["cache"]["state"] == "stale", "stale state")
            stats = registry.get_stats()
            assert stats["cache"]["error"]
            assert_secret_free(json.dumps(stats))
            assert_metrics_secret_free(registry, uncached, healthy=False)
            failures: list[Callable[[], object]] = [
                lambda: writer.update_model_status("gpt-4-turbo", "disabled"),
                lambda: writer.get_model("gpt-4-turbo"),
                registry.refresh,
                lambda: registry.get_model_history("gpt-4-turbo"),
                registry.is_initialized,
                lambda: ModelRegistry(url),
            ]
            for fail in failures:
                with pytest.raises(DatabaseUnavailableError) as raised:
                    fail()
                assert_error_secret_free(raised.value)
        finally:
            server.start()

        def write_again() -> bool:
            try:
                writer.update_model_status("gpt-4-turbo", "maintenance")
            except DatabaseUnavailableError as exc:
                assert_error_secret_free(exc)
                return False
            return True

        wait_for(write_again, "a write after the restart")
        wait_for(lambda: registry.get_stats()["cache"]["state"] == "live", "the resync")
        assert_secret_free(json.dumps(registry.get_stats()))
        assert_metrics_secret_free(registry, uncached, healthy=True)

    wrong = with_password(server.url, "wrong-" + SECRET)
    with pytest.raises(ModelRegistryError) as refused:
        ModelRegistry(wrong)
    assert "password authentication failed" in str(refused.value)
    assert_error_secret_free(refused.value)
    assert_logs_secret_free(everything_logged)


def assert_metrics_secret_free(*registries: ModelRegistry, healthy: bool) -> None:
    """The exposition and the health check of each registry (cached, uncached)."""
    for registry in registries:
        metrics = registry.metrics
        health = metrics.health()
        assert health.ok is healthy, health
        assert_secret_free(metrics.exposition().decode(), health.detail, repr(health))


def _cli_outputs(runner: CliRunner, args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    chain = (
        ""
        if result.exception is None or isinstance(result.exception, SystemExit)
        else "".join(traceback.format_exception(result.exception))
    )
    assert chain == "", f"the CLI raised instead of reporting: {chain}"
    return result.output


def test_the_cli_never_prints_the_password(server: ThrowawayPostgres) -> None:
    runner = CliRunner()
    good = _url(server)
    unreachable = with_password("postgresql://postgres@127.0.0.1:1/x?connect_timeout=5", SECRET)
    wrong = with_password(server.url, "wrong-" + SECRET)
    commands = [
        ["models", "list"],
        ["models", "show", "nope"],
        ["models", "set-status", "nope", "active"],
        ["stats", "--json"],
        ["info"],
        ["info", "--json"],
        ["db", "current"],
        ["db", "upgrade"],
        ["export"],
    ]
    for url in (good, unreachable, wrong):
        for command in commands:
            output = _cli_outputs(runner, ["--db", url, *command])
            assert output
            assert_secret_free(output)
            from_environment = _cli_outputs(
                runner, command, env={"MODELREGISTRY_DATABASE_URL": url}
            )
            assert_secret_free(from_environment)
    # The real console script, as an admin runs it: nothing on stdout or stderr either.
    for url in (good, unreachable):
        finished = subprocess.run(
            [str(CONSOLE_SCRIPT), "models", "list"],
            env={**os.environ, "MODELREGISTRY_DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert "Traceback" not in finished.stderr
        assert_secret_free(finished.stdout, finished.stderr)


UNUSABLE_URLS = {
    "no server on the port": "postgresql://admin:{pw}@127.0.0.1:1/catalog?connect_timeout=5",
    "port not a number": "postgresql://admin:{pw}@127.0.0.1:notaport/catalog",
    "unclosed IPv6 host": "postgresql://admin:{pw}@[::1:5432/catalog",
    "unknown host": "postgresql://admin:{pw}@no-such-host.invalid/catalog?connect_timeout=5",
    "bad sslmode": "postgresql://admin:{pw}@127.0.0.1:1/catalog?sslmode=bogus",
    "unknown option": "postgresql://admin:{pw}@127.0.0.1:1/catalog?no_such_option=1",
    "driver not installed": "postgresql+asyncpg://admin:{pw}@127.0.0.1:1/catalog",
    "unknown dialect": "oracle://admin:{pw}@127.0.0.1:1/catalog",
    "not a URL": "postgres ql://admin:{pw}@127.0.0.1:1/catalog",
    "password in the query": "postgresql://admin@127.0.0.1:1/catalog?password={pw}",
    "both places": "postgresql://admin:{pw}@127.0.0.1:1/catalog?PASSWORD={pw}&sslmode=x",
}


@pytest.mark.parametrize("name", sorted(UNUSABLE_URLS))
def test_unusable_urls_carrying_a_password_give_our_error_without_it(
    name: str, everything_logged: pytest.LogCaptureFixture
) -> None:
    url = UNUSABLE_URLS[name].format(pw=quote(SECRET, safe=""))
    with pytest.raises(ModelRegistryError) as raised:
        ModelRegistry(url)
    assert_error_secret_free(raised.value)
    result = CliRunner().invoke(app, ["--db", url, "models", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E402")
    assert result.stderr.count("\n") == 1
    assert_secret_free(result.output)
    for record in everything_logged.records:
        assert_secret_free(record.getMessage(), record.exc_text or "")


def _values(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in _values(value)]
    if isinstance(data, list):
        return [text for value in data for text in _values(value)]
    return [str(data)]


def test_stats_and_repr_of_a_working_registry_hold_no_secret(server: ThrowawayPostgres) -> None:
    with ModelRegistry(_url(server), cache=False) as registry:
        registry.register_model(config(model_id="secret-free"))
        assert_secret_free(*_values(registry.get_stats()), repr(registry))
