"""The version is written once, in ``modelregistry/__init__.py``; everything else reads it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import modelregistry

CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"


def test_the_installed_distribution_has_the_packages_version() -> None:
    assert importlib.metadata.version("modelregistry") == modelregistry.__version__


def test_the_command_line_prints_the_packages_version() -> None:
    run = subprocess.run(
        [str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout == f"modelregistry {modelregistry.__version__}\n"
