"""README.md's ```sh blocks run verbatim, in order, on a fresh throwaway catalog.

The Quick start is left out (it installs the package and runs the whole suite); ```console
blocks are not run (they need the network, a server or a second process: tested elsewhere).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from terminal import environment

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_BLOCK = re.compile(r"^(#+ [^\n]*)$|^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def shell_blocks(text: str) -> list[str]:
    """The ```sh blocks of ``text`` outside its Quick start section, in order."""
    blocks: list[str] = []
    section = ""
    for match in _BLOCK.finditer(text):
        if match.group(1) is not None:
            section = match.group(1).strip()
        elif section != "## Quick start":
            blocks.append(match.group(2))
    return blocks


def test_the_readme_has_shell_examples_outside_the_quick_start() -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    assert any("modelregistry models" in block for block in blocks)


@pytest.mark.slow
def test_the_readme_shell_blocks_run_in_order_on_a_fresh_catalog(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(shell_blocks(README.read_text(encoding="utf-8")))
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")  # `python examples/...` as in a checkout
    env = environment(
        tmp_path / "home",
        MODELREGISTRY_DATABASE_URL=f"sqlite:///{tmp_path / 'catalog.db'}",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "error:" not in done.stderr, done.stderr
    # What the blocks wrote stayed in the throwaway directory.
    assert (work / "catalog.yaml").exists()
    assert (work / "upgrade.sql").read_text().strip()
