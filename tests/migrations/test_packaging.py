"""Where the migrations are found: the checkout's ``migrations/``, or the wheel's copy.

The wheel and sdist tests build the real distributions with hatchling (``--no-build-isolation``:
the ``test`` extra installs it) and install the wheel with pip outside the checkout.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modelregistry.db import migrate
from modelregistry.domain.defaults import DEFAULT_MODELS
from modelregistry.errors import MigrationError

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_MIGRATIONS = ROOT / "migrations"
PACKAGED = "modelregistry/migrations"


def revision_files() -> set[str]:
    """The checkout's revision files, as ``versions/NNNN_slug.py``."""
    return {
        f"versions/{path.name}"
        for path in (CHECKOUT_MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    }


def run(command: list[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run ``command``; its stdout, or a failure showing what it printed."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    shown = shlex.join(command)[:300]
    assert result.returncode == 0, f"{shown} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(source: Path, into: Path) -> Path:
    """Build the wheel of the project at ``source`` as pip does; the wheel's path."""
    into.mkdir(parents=True, exist_ok=True)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "-w", str(into), str(source)], cwd=into)
    (wheel,) = into.glob("modelregistry-*.whl")
    return wheel


def packaged_migrations(wheel: Path) -> set[str]:
    """The files under ``modelregistry/migrations/`` in ``wheel``, relative to it."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {name.removeprefix(f"{PACKAGED}/") for name in names if name.startswith(f"{PACKAGED}/")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, once for the module."""
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_the_checkout_uses_the_migrations_beside_alembic_ini() -> None:
    assert migrate.MIGRATIONS_DIR == CHECKOUT_MIGRATIONS
    assert (ROOT / "alembic.ini").is_file()
    assert list(migrate.known_revisions()) == sorted(
        Path(name).name.split("_", 1)[0] for name in revision_files()
    )


def test_locate_migrations_prefers_the_packages_copy(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "modelregistry"
    (package / "migrations").mkdir(parents=True)
    (package / "migrations" / "env.py").touch()
    # A checkout's migrations/ would be here; the package's own copy wins.
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").touch()
    assert migrate.locate_migrations(package / "db" / "migrate.py") == package / "migrations"


def test_locate_migrations_in_a_checkout_skips_a_leftover_package_folder(tmp_path: Path) -> None:
    package = tmp_path / "src" / "modelregistry"
    # What an older checkout leaves behind after the move: bytecode, no env.py.
    (package / "migrations" / "__pycache__").mkdir(parents=True)
    (package / "migrations" / "__pycache__" / "env.cpython-311.pyc").touch()
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "env.py").touch()
    assert migrate.locate_migrations(package / "db" / "migrate.py") == tmp_path / "migrations"


def test_locate_migrations_when_neither_exists_raises_e4012_naming_both(tmp_path: Path) -> None:
    module = tmp_path / "src" / "modelregistry" / "db" / "migrate.py"
    with pytest.raises(MigrationError) as raised:
        migrate.locate_migrations(module)
    packaged = tmp_path / "src" / "modelregistry" / "migrations"
    checkout = tmp_path / "migrations"
    assert raised.value.code == "E4012"
    assert str(packaged) in str(raised.value)
    assert str(checkout) in str(raised.value)
    assert raised.value.to_dict()["searched"] == [str(packaged), str(checkout)]


@pytest.mark.slow
def test_wheel_carries_env_template_and_every_revision(wheel: Path) -> None:
    shipped = packaged_migrations(wheel)
    assert {"env.py", "script.py.mako"} <= shipped
    assert {name for name in shipped if name.startswith("versions/")} == revision_files()
    assert not any("__pycache__" in name for name in shipped)
    with zipfile.ZipFile(wheel) as archive:
        # Inside the package only: a top-level "migrations" would clash with other projects'.
        assert not [name for name in archive.namelist() if name.startswith("migrations/")]


# Run in a fresh interpreter whose modelregistry is the installed wheel (argv[1]: the URL).
INSTALLED_WHEEL_PROBE = """
import json, sys
import modelregistry
from modelregistry import ModelRegistry
from modelregistry.db import migrate

with ModelRegistry(sys.argv[1]) as registry:
    models = [model.model_id for model in registry.list_models()]
    initialized = registry.is_initialized()
with migrate.database(sys.argv[1]) as engine:
    revision = migrate.current(engine)
print(json.dumps({
    "module": modelregistry.__file__,
    "migrations": str(migrate.MIGRATIONS_DIR),
    "known": list(migrate.known_revisions()),
    "models": models,
    "initialized": initialized,
    "revision": revision,
}))
"""


@pytest.mark.slow
def test_wheel_installed_elsewhere_migrates_from_its_own_copy(wheel: Path, tmp_path: Path) -> None:
    # A "%" in the install path: configparser must not take it for interpolation.
    target = tmp_path / "100%" / "site-packages"
    pip_install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index"]
    run([*pip_install, "--target", str(target), str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    url = f"sqlite:///{tmp_path / 'x.db'}"
    probe = run([sys.executable, "-c", INSTALLED_WHEEL_PROBE, url], cwd=elsewhere, env=env)
    facts = json.loads(probe.strip().splitlines()[-1])
    assert Path(facts["module"]).is_relative_to(target)
    assert Path(facts["migrations"]) == target / "modelregistry" / "migrations"
    assert facts["known"] == list(migrate.known_revisions())
    assert facts["models"] == sorted(model.model_id for model in DEFAULT_MODELS)
    assert facts["initialized"] is True
    assert facts["revision"] == migrate.head_revision()


@pytest.mark.slow
def test_sdist_carries_migrations_and_alembic_ini_and_builds_the_same_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    hatchling = [sys.executable, "-m", "hatchling", "build", "--target", "sdist"]
    run([*hatchling, "--directory", str(tmp_path)], cwd=ROOT)
    (sdist,) = tmp_path.glob("modelregistry-*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/", 1)[0]
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        archive.extractall(tmp_path / "unpacked", filter="data")
    assert "alembic.ini" in names
    assert {"migrations/env.py", "migrations/script.py.mako"} <= names
    assert {f"migrations/{name}" for name in revision_files()} <= names
    # pip and `python -m build` build the wheel from the sdist: it must ship the migrations too.
    from_sdist = build_wheel(tmp_path / "unpacked" / top, tmp_path / "wheel-from-sdist")
    assert {"env.py", "script.py.mako"} <= packaged_migrations(from_sdist)
    assert packaged_migrations(from_sdist) == packaged_migrations(wheel)
