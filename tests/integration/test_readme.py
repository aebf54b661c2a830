"""README.md stays true: its Python examples run and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def expected_output(block: str) -> list[str]:
    """The ``# ...`` comment lines right after each ``print(...)`` line, in order."""
    expected: list[str] = []
    after_print = False
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("print("):
            after_print = True
        elif after_print and stripped.startswith("# "):
            expected.append(stripped.removeprefix("# "))
        else:
            after_print = False
    return expected


def test_readme_has_python_examples() -> None:
    assert len(PYTHON_BLOCKS) >= 4


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_readme_python_example_runs_and_prints_what_it_says(block: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        runpy.run_path(str(script), run_name="__main__")
    assert captured.getvalue().splitlines() == expected_output(block)


def test_quick_start_has_exactly_two_sh_blocks_run_then_test() -> None:
    def block(which: str) -> str:
        return subprocess.run(
            [sys.executable, str(ROOT / ".ci" / "quickstart.py"), which],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    assert "pip install ." in block("run")
    assert "modelregistry models list" in block("run")
    assert "pytest" in block("test")
