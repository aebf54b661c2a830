"""A process's first answer loads only what it needs: no ``sqlalchemy.orm`` (issue 15), no
catalog files, upstream sync or JetStream feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from modelregistry import ModelRegistry

UNUSED_BY_A_READ = (
    "modelregistry.service.catalog_files",
    "modelregistry.domain.documents",
    "modelregistry.service.sync",
    "modelregistry.db.sync_store",
    "modelregistry.cache.jetstream",
    "modelregistry.cache.publisher",
    "modelregistry.cache.relay",
    "modelregistry.domain.counts",
)
"""Modules of imports, exports, sync, the JetStream feed and metrics: loaded only when used."""

FIRST_READ = """
import json, sys
import modelregistry
registry = modelregistry.ModelRegistry()
model = registry.get_model("llama3.1:8b")
registry.close()
registry = modelregistry.ModelRegistry(cache=False)
uncached = registry.get_model("llama3.1:8b")
registry.close()
print(json.dumps({
    "model_id": model.model_id,
    "uncached_model_id": uncached.model_id,
    "orm": sorted(name for name in sys.modules if name.startswith("sqlalchemy.orm")),
    "unused": sorted(set(sys.modules) & set(sys.argv[1:])),
}))
"""
"""The benchmark's cold start (benchmarks/bench_processes.py COLD_START), cached and not, and
the modules it loaded that it should not have."""


def test_a_fresh_process_answers_its_first_get_model_without_orm_files_sync_or_feed(
    database_url: str,
) -> None:
    ModelRegistry(database_url).close()  # migrated and seeded, as a catalog in use is
    environment = {**os.environ, "MODELREGISTRY_DATABASE_URL": database_url}
    completed = subprocess.run(
        [sys.executable, "-c", FIRST_READ, *UNUSED_BY_A_READ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout)
    assert found["model_id"] == found["uncached_model_id"] == "llama3.1:8b"
    assert found["orm"] == []
    assert found["unused"] == []
