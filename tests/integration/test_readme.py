"""README.md stays true: its Python examples run and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelregistry import ModelRegistry

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)
OPERATING = README.split("\n## Operating\n", 1)[1].split("\n## ", 1)[0]
SQL_STATEMENTS = [
    statement.strip()
    for block in re.findall(r"^```sql\n(.*?)^```$", OPERATING, flags=re.MULTILINE | re.DOTALL)
    for statement in re.sub(r"^--.*$", "", block, flags=re.MULTILINE).split(";")
    if statement.strip()
]


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


def test_the_operating_section_has_reporting_queries() -> None:
    assert len(SQL_STATEMENTS) >= 6
    for view in ("model_catalog", "provider_summary", "capability_summary", "price_history"):
        assert any(view in statement for statement in SQL_STATEMENTS), view
    assert any("model_changes" in statement for statement in SQL_STATEMENTS)


@pytest.mark.parametrize("number", range(len(SQL_STATEMENTS)))
def test_readme_reporting_query_runs_and_answers(
    number: int, database_url: str, raw_engine: sa.Engine
) -> None:
    soon = datetime.now(UTC).date() + timedelta(days=20)
    with ModelRegistry(database_url) as registry:
        registry.set_price("llama3.1:8b", "0.05", "0.1", reason="hosted")
        registry.register_model(
            {
                "model_id": "gpt-4-0613",
                "provider": "openai",
                "context_window": 8192,
                "max_output_tokens": 4096,
                "capabilities": {"supports_tool_use": True},
                "status": "deprecated",
                "retirement_date": soon,
                "successor_model_id": "gpt-4o",
                "input_modalities": ["text", "image"],
                "tags": {"residency": "eu"},
            }
        )
    with raw_engine.connect() as connection:
        rows = connection.execute(sa.text(SQL_STATEMENTS[number])).all()
    assert rows, SQL_STATEMENTS[number]
