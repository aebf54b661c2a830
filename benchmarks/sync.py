"""Benchmark: syncing an upstream catalog of ~5,000 models, beside importing the same models.

    python benchmarks/sync.py KIND FILE [--url URL] [--repeat 3]

KIND is ``litellm``, ``models.dev`` or ``openrouter``; FILE a document of that kind (the real
LiteLLM map from the litellm wheel, models.dev's api.json). Without FILE, a generated LiteLLM
map of 5,000 chat models is used. On a fresh catalog at ``--url`` (default: a temporary SQLite
file; PostgreSQL: a private schema of the URL's database, dropped afterwards) it times, in
the same run:

- the first sync (every model added) against ``import_catalog`` of the very configs the sync
  wrote, into another fresh catalog (the reference: the same rows without the merge);
- a second sync of the same document (a three-way merge of every model, nothing changed).

Figures only: nothing fails on a slow figure.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from modelregistry import ModelRegistry


def _generated(path: Path, count: int) -> None:
    entry = {
        "litellm_provider": "acme",
        "mode": "chat",
        "max_input_tokens": 128000,
        "max_output_tokens": 8192,
        "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-06,
        "supports_function_calling": True,
    }
    path.write_text(json.dumps({f"acme/model-{n}": entry for n in range(count)}))


class _Catalog:
    """A fresh catalog URL: a SQLite file, or a private PostgreSQL schema."""

    def __init__(self, url: str | None, directory: Path) -> None:
        self.schema: str | None = None
        self.base = url
        if url is None:
            self.url = f"sqlite:///{directory / ('c' + secrets.token_hex(4) + '.db')}"
            return
        self.schema = "mr_bench_sync_" + secrets.token_hex(4)
        self.engine = sa.create_engine(url)
        with self.engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        separator = "&" if "?" in url else "?"
        self.url = f"{url}{separator}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        if self.schema is not None:
            with self.engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="litellm")
    parser.add_argument("file", nargs="?")
    parser.add_argument("--url")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp())
    source = Path(args.file) if args.file else directory / "generated.json"
    if not args.file:
        _generated(source, 5000)
    first, second, reference = [], [], []
    for _ in range(args.repeat):
        synced, imported = _Catalog(args.url, directory), _Catalog(args.url, directory)
        try:
            with ModelRegistry(synced.url, cache=False) as registry:
                start = time.perf_counter()
                result = registry.sync(args.kind, str(source), force=True)
                first.append(time.perf_counter() - start)
                start = time.perf_counter()
                registry.sync(args.kind, str(source), force=True)
                second.append(time.perf_counter() - start)
                written = [registry.get_model(m) for m in result.plan.added]
            document = {"models": [m.model_dump(mode="json") for m in written if m is not None]}
            with ModelRegistry(imported.url, cache=False) as registry:
                start = time.perf_counter()
                registry.import_catalog(document)
                reference.append(time.perf_counter() - start)
        finally:
            synced.drop()
            imported.drop()
    added = len(result.plan.added)
    engine = "sqlite" if args.url is None else sa.make_url(args.url).get_backend_name()
    print(
        f"{args.kind} {source.name}: {added} models added, {len(result.plan.invalid)} invalid ({engine})"
    )
    for label, figures in (
        ("first sync (all added)", first),
        ("second sync (nothing changed)", second),
        ("import_catalog of the same models", reference),
    ):
        print(f"  {label:36} median {statistics.median(figures):6.2f} s")
    ratio = statistics.median(first) / statistics.median(reference)
    print(f"  first sync / import: {ratio:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
