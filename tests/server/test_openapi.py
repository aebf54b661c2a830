"""/openapi.json is true: schemathesis runs every check against the running server.

A few examples per operation keep it under a minute; realistic values (a model id, the current
revision, a cursor this server gave) let the generated requests reach past the lookups.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modelregistry import ModelRegistry
from served import Served

if TYPE_CHECKING:
    from pathlib import Path as PathType

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_schemathesis_finds_the_server_true_to_its_openapi_document(
    database_url: str, tmp_path: PathType
) -> None:
    ModelRegistry(database_url).close()
    served = Served(database_url, "serve")
    try:
        revision = served.json("/readyz")[1]["revision"]
        cursor = served.json("/api/models?limit=1")[1]["next_cursor"]
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            f"""
[[operations]]
include-path = "/api/changes"
parameters = {{ since = {revision}, wait = 0 }}

[[operations]]
include-path = "/api/cost"
parameters = {{ model = "llama3.1:8b" }}

[[operations]]
include-path = "/api/models"
parameters = {{ cursor = {json.dumps(cursor)} }}

[[operations]]
include-path-regex = "models/[{{]model_id[}}]$"
parameters = {{ model_id = "llama3.1:8b" }}
"""
        )
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(config),
                "run",
                served.base + "/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
        )
    finally:
        served.close()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout, run.stdout[-3000:]
    assert "Tested: 12" in run.stdout  # every operation of the document
