"""Files and URLs under faults: odd catalog files, failing exports, read-only SQLite, secrets.

Catalog files that are not regular files (a FIFO, a device, a symlink to ``/dev/zero``) are
refused at once, unread; an export that cannot be written raises our error and leaves no
half file; a write to a read-only SQLite file is E4021, not retryable; every password-like
URL parameter, and a password with an unencoded ``@``, is masked wherever a URL is shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cases import GPT4_TURBO, config, database_dump
from modelregistry import (
    CatalogWriteError,
    DatabaseError,
    InvalidCatalogFileError,
    ModelRegistry,
    ModelRegistryError,
)
from modelregistry.cli import app
from modelregistry.db.engine import safe_url
from modelregistry.domain.documents import MAX_FILE_BYTES
from modelregistry.service.catalog_files import read_catalog_file

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.reliability

DEADLINE = 30.0
CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"


def _odd_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    null = tmp_path / "null.json"
    null.symlink_to("/dev/null")
    directory = tmp_path / "dir.yaml"
    directory.mkdir()
    return {"fifo": fifo, "/dev/zero": zero, "/dev/null": null, "directory": directory}


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/null", "directory"])
def test_importing_a_file_that_is_not_regular_is_refused_at_once_with_e4005(
    registry: ModelRegistry, database_url: str, tmp_path: Path, kind: str
) -> None:
    path = _odd_files(tmp_path)[kind]
    before = database_dump(database_url)
    started = time.monotonic()
    with pytest.raises(InvalidCatalogFileError) as raised:
        registry.import_catalog(path)
    assert time.monotonic() - started < DEADLINE
    assert "regular file" in str(raised.value)
    assert database_dump(database_url) == before


def test_a_file_growing_past_the_limit_is_never_read_beyond_the_limit(tmp_path: Path) -> None:
    # A sparse file: its size is what stat says, its content reads as zeros.
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES * 4)
    with pytest.raises(InvalidCatalogFileError, match="larger than"):
        read_catalog_file(path)


def test_cli_import_and_watch_refuse_a_fifo_and_dev_zero(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    files = _odd_files(tmp_path)
    for kind in ("fifo", "/dev/zero"):
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "--database-url", url, "import", str(files[kind])],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        # The first use of a new catalog says so on a "note:" line first (issue 20).
        errors = [line for line in result.stderr.splitlines() if not line.startswith("note:")]
        assert errors[0].startswith("error: E4005"), result.stderr
        assert "Traceback" not in result.stderr
        with subprocess.Popen(
            [str(CONSOLE_SCRIPT), "--database-url", url, "watch", str(files[kind])],
            stderr=subprocess.PIPE,
            text=True,
        ) as watcher:
            try:
                assert watcher.stderr is not None
                line = watcher.stderr.readline()  # blocks until the watch says something
                while line.startswith("note:"):  # a new catalog says so first (issue 20)
                    line = watcher.stderr.readline()
                assert "error: E4005" in line, line
                assert "regular file" in line
            finally:
                watcher.kill()
                watcher.wait(timeout=DEADLINE)


# -- exports that cannot be written ----------------------------------------------------------


def _unwritable(tmp_path: Path) -> dict[str, Path]:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    directory = tmp_path / "a-directory.yaml"
    directory.mkdir()
    return {
        "missing directory": tmp_path / "missing" / "catalog.yaml",
        "a directory": directory,
        "under a file": blocker / "catalog.yaml",
    }


@pytest.mark.parametrize("case", ["missing directory", "a directory", "under a file"])
def test_an_export_that_cannot_be_written_raises_e4013_and_leaves_nothing(
    registry: ModelRegistry, tmp_path: Path, case: str
) -> None:
    target = _unwritable(tmp_path)[case]
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(CatalogWriteError) as raised:
        registry.export_catalog(target)
    assert raised.value.code == "E4013"
    assert not raised.value.retryable
    assert isinstance(raised.value, OSError)
    assert str(target) in str(raised.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # no temporary file left


def test_an_export_replaces_the_file_whole(registry: ModelRegistry, tmp_path: Path) -> None:
    target = tmp_path / "catalog.json"
    target.write_text("old content")
    text = registry.export_catalog(target)
    assert target.read_text() == text
    assert json.loads(text)["models"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("case", ["missing directory", "a directory", "under a file"])
def test_cli_export_to_an_unwritable_path_is_one_error_line(tmp_path: Path, case: str) -> None:
    target = _unwritable(tmp_path)[case]
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ModelRegistry(url).close()
    result = CliRunner().invoke(app, ["--database-url", url, "export", "-o", str(target)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: E4013"), lines


# -- a read-only SQLite file -----------------------------------------------------------------


def test_writing_a_read_only_sqlite_file_is_e4021_not_retryable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    with ModelRegistry(f"sqlite:///{path}") as registry:
        registry.register_model(GPT4_TURBO)
    before = database_dump(f"sqlite:///{path}")
    # Opened read-only (file permissions do not bind root, who runs CI).
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    writes: list[Callable[[ModelRegistry], object]] = [
        lambda r: r.register_model(config(model_id="new-model")),
        lambda r: r.update_model_status("gpt-4-turbo", "deprecated"),
        lambda r: r.remove_model("gpt-4-turbo"),
    ]
    for cache in (True, False):
        with ModelRegistry(url, cache=cache) as registry:
            assert registry.get_model("gpt-4-turbo") is not None
            for write in writes:
                with pytest.raises(DatabaseError) as raised:
                    write(registry)
                assert raised.value.code == "E4021"
                assert not raised.value.retryable
                assert "read-only" in str(raised.value)
    assert database_dump(f"sqlite:///{path}") == before


# -- secrets in URLs -------------------------------------------------------------------------

SECRET = "Tail0fS3cret"  # noqa: S105 - the test's own made-up secret


def _secret_free(*texts: object) -> None:
    for text in texts:
        rendered = text if isinstance(text, str) else repr(text)
        assert SECRET not in rendered, rendered
        assert "p@" + SECRET not in rendered, rendered


@pytest.mark.parametrize(
    "key", ["password", "sslpassword", "PassWord", "client_secret", "api_token", "sslpass"]
)
def test_safe_url_masks_every_password_like_query_parameter(key: str) -> None:
    shown = safe_url(f"postgresql://u@db.example:5432/x?{key}={SECRET}&sslmode=require")
    _secret_free(shown)
    assert "sslmode=require" in shown
    assert make_url(shown).query[key] == "***"


def test_safe_url_masks_a_password_with_an_unencoded_at_whole() -> None:
    shown = safe_url(f"postgresql://user:p@ss@{SECRET}@db.example:5432/x")
    _secret_free(shown)
    assert make_url(shown).host == "db.example"
    assert make_url(shown).username == "user"


def test_sslpassword_is_masked_in_repr_url_info_and_errors(postgres_schema_url: str) -> None:
    # A schema of its own: the registry creates the catalog there, never in the public schema.
    url = make_url(postgres_schema_url).update_query_dict({"sslpassword": SECRET})
    rendered = url.render_as_string(hide_password=False)
    with ModelRegistry(rendered) as registry:
        _secret_free(repr(registry), registry.url, json.dumps(registry.get_stats(), default=str))
    result = CliRunner().invoke(app, ["--database-url", rendered, "info", "--json"])
    assert result.exit_code == 0, result.output
    _secret_free(result.output)
    unreachable = url.set(host="127.0.0.1", port=1).update_query_dict({"connect_timeout": "2"})
    with pytest.raises(ModelRegistryError) as raised:
        ModelRegistry(unreachable.render_as_string(hide_password=False))
    _secret_free(str(raised.value), repr(raised.value), json.dumps(raised.value.to_dict()))
    result = CliRunner().invoke(
        app, ["--database-url", unreachable.render_as_string(hide_password=False), "models", "list"]
    )
    assert result.exit_code == 1
    _secret_free(result.output)


def test_a_password_with_an_unencoded_at_is_refused_with_a_hint_and_never_shown(
    postgres_url: str,
) -> None:
    parsed = make_url(postgres_url)
    url = f"postgresql://{parsed.username}:p@{SECRET}@{parsed.host}:{parsed.port}/{parsed.database}"
    with pytest.raises(DatabaseError) as raised:
        ModelRegistry(url)
    assert "percent-encode" in str(raised.value)
    _secret_free(str(raised.value), repr(raised.value), json.dumps(raised.value.to_dict()))
    result = CliRunner().invoke(app, ["--database-url", url, "info"])
    assert result.exit_code == 1
    _secret_free(result.output)
    assert "error: E4021" in result.output
