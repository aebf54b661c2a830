"""Data and floors for benchmarks/run.py: generated catalogs, databases, the references.

- :func:`generated_catalog`: a deterministic catalog of any size, in the JSON form a catalog
  file holds.
- :class:`SeedRegistry`: the seed's in-memory registry (a dict of models by id, a dict of
  capability -> set of ids, a dict of provider -> set of ids), the floor for cached reads.
- :class:`RawCatalog`: the same catalog through the bare driver (psycopg 3 or sqlite3), the
  floor for database reads, writes and bulk imports.
- :func:`database`: a private PostgreSQL schema or SQLite file, dropped afterwards.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from modelregistry import ModelStatus
from modelregistry.domain.models import QUALITY_DIMENSIONS
from modelregistry.domain.pricing import exact_decimal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from modelregistry import ModelConfig

PROVIDERS: Final = 20
"""Providers in a generated catalog (``provider-00`` ...); each has 1/20 of the models."""
_CONTEXT_WINDOWS: Final = (4096, 8192, 32_768, 128_000, 200_000, 1_000_000)
_STATUSES: Final = (
    (ModelStatus.ACTIVE, 0.85),
    (ModelStatus.DEPRECATED, 0.10),
    (ModelStatus.DISABLED, 0.03),
    (ModelStatus.MAINTENANCE, 0.02),
)
_CAPABILITIES: Final = (  # share of the models that have each
    ("streaming", 0.9),
    ("vision", 0.3),
    ("tool_use", 0.5),
    ("json_mode", 0.4),
    ("reasoning", 0.1),
)


def generated_catalog(count: int, *, seed: int = 8, prefix: str = "") -> list[dict[str, Any]]:
    """``count`` models as catalog-file entries, the same ones for the same arguments.

    Ids are ``<prefix>provider-NN/model-NNNNNNN``: providers are spread evenly, about 30% of the
    models have vision, 85% are active; prices have up to 4 decimal places.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    statuses = [status.value for status, _ in _STATUSES]
    weights = [share for _, share in _STATUSES]
    entries = []
    for number in range(count):
        provider = f"provider-{number % PROVIDERS:02d}"
        latency = rng.randrange(80, 4000)
        entries.append(
            {
                "model_id": f"{prefix}{provider}/model-{number:07d}",
                "provider": provider,
                "display_name": f"Model {number}",
                "capabilities": {
                    f"supports_{name}": True
                    for name, share in _CAPABILITIES
                    if rng.random() < share
                },
                "context_window": rng.choice(_CONTEXT_WINDOWS),
                "max_output_tokens": rng.choice((2048, 4096, 8192, 16_384)),
                "cost_per_1m_input_tokens": round(rng.uniform(0, 20), 4),
                "cost_per_1m_output_tokens": round(rng.uniform(0, 80), 4),
                "rate_limit_rpm": rng.choice((0, 60, 500, 10_000)),
                "rate_limit_tpm": rng.choice((0, 100_000, 2_000_000)),
                "latency_p50_ms": latency,
                "latency_p99_ms": latency * 3,
                "status": rng.choices(statuses, weights)[0],
                "quality_scores": {name: round(rng.random(), 3) for name in QUALITY_DIMENSIONS},
            }
        )
    return entries


class SeedRegistry:
    """The seed's in-memory registry, answering with the same sorted lists as ours."""

    def __init__(self, models: list[ModelConfig]) -> None:
        """Index ``models`` the seed's way (given sorted by id, as the registry lists them)."""
        self._models = {model.model_id: model for model in models}
        self._by_capability: dict[str, set[str]] = {}
        self._by_provider: dict[str, set[str]] = {}
        for model in models:
            self._by_provider.setdefault(model.provider, set()).add(model.model_id)
            for name in model.capabilities.names():
                self._by_capability.setdefault(name, set()).add(model.model_id)

    def get_model(self, model_id: str) -> ModelConfig | None:
        """One dict lookup."""
        return self._models.get(model_id)

    def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        """The models of one capability set, sorted by id."""
        return [self._models[i] for i in sorted(self._by_capability.get(capability, ()))]

    def get_models_by_capabilities(self, capabilities: list[str]) -> list[ModelConfig]:
        """The intersection of capability sets, sorted by id."""
        sets = [self._by_capability.get(name, set()) for name in capabilities]
        return [self._models[i] for i in sorted(set.intersection(*sets))]

    def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """The provider's set, sorted by id."""
        return [self._models[i] for i in sorted(self._by_provider.get(provider, ()))]

    def get_available_models(self) -> list[ModelConfig]:
        """Active models, filtered from the dict (insertion order is id order)."""
        return [model for model in self._models.values() if model.status is ModelStatus.ACTIVE]

    def find_models(
        self, capability: str, max_input_cost: float, min_context: int, limit: int
    ) -> list[ModelConfig]:
        """Active models with the capability within the bounds, cheapest first (ties by id)."""
        found = [
            model
            for model in (self._models[i] for i in self._by_capability.get(capability, ()))
            if model.status is ModelStatus.ACTIVE
            and model.cost_per_1m_input_tokens <= max_input_cost
            and model.context_window >= min_context
        ]
        found.sort(
            key=lambda model: (
                round(model.cost_per_1m_input_tokens * 10**10)
                + round(model.cost_per_1m_output_tokens * 10**10),
                model.model_id,
            )
        )
        return found[:limit]


# -- databases ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Database:
    """A private database: the registry's URL, and the bare driver's address for the same."""

    backend: str
    url: str
    """SQLAlchemy URL for ModelRegistry."""
    raw: str
    """The SQLite file's path, or the libpq URL (with the schema as search_path)."""


def postgres_reachable(url: str) -> str | None:
    """None if PostgreSQL answers at ``url``, else the reason it does not."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def libpq_url(url: str) -> str:
    """``url`` as psycopg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def database(backend: str, postgres_url: str, directory: Path) -> Iterator[Database]:
    """A new empty database: a fresh schema of ``postgres_url``, or a file in ``directory``.

    The schema (``mr_bench_<hex>``) is dropped on exit; nothing else in the database is
    touched.
    """
    if backend == "sqlite":
        path = directory / f"bench-{uuid.uuid4().hex[:8]}.db"
        yield Database(backend, f"sqlite:///{path}", str(path))
        return
    schema = f"mr_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        rendered = url.render_as_string(hide_password=False)
        yield Database(backend, rendered, libpq_url(rendered))
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


# -- the bare driver ---------------------------------------------------------------------

_MODEL_COLUMNS: Final = (
    "model_id",
    "provider_id",
    "display_name",
    "context_window",
    "max_output_tokens",
    "cost_per_1m_input_tokens",
    "cost_per_1m_output_tokens",
    "rate_limit_rpm",
    "rate_limit_tpm",
    "latency_p50_ms",
    "latency_p99_ms",
    "status",
    "quality_reasoning",
    "quality_coding",
    "quality_creative",
    "quality_summarization",
    "deprecation_date",
    "retirement_date",
    "successor_model_id",
    "version",
    "created_at",
    "updated_at",
)
_REVISION_COLUMNS: Final = (
    "model_id",
    "version",
    "change",
    "config",
    "changed_at",
    "actor",
    "reason",
)
_ACTOR: Final = "benchmark"


def _get_sql(sqlite: bool) -> str:
    """The registry's own lookup, by hand: the row, its provider and its capabilities."""
    aggregate = "group_concat(c.name, ',')" if sqlite else "string_agg(c.name, ',')"
    key = "?" if sqlite else "%s"
    return (
        f"SELECT m.*, p.name AS provider, (SELECT {aggregate} FROM model_capabilities mc "
        "JOIN capabilities c ON c.id = mc.capability_id WHERE mc.model_pk = m.id) "
        "AS capabilities FROM models m JOIN providers p ON p.id = m.provider_id "
        f"WHERE m.model_id = {key}"
    )


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """One model ready for the bare driver: its column values and its revision document."""

    model_id: str
    provider: str
    values: tuple[Any, ...]
    """The ``models`` columns after ``provider_id``, up to ``successor_model_id``."""
    capabilities: tuple[str, ...]
    document: dict[str, Any]


class RawCatalog:
    """The catalog through the bare driver, with no registry code in the timed paths.

    Inputs are prepared beforehand (:meth:`prepare`: column values and the revision's JSON
    document), as a hand-written data layer would keep them; the timed methods only talk to
    the database.
    """

    def __init__(self, db: Database) -> None:
        """Connect (PostgreSQL: autocommit, statements prepared on the server)."""
        self.sqlite = db.backend == "sqlite"
        if self.sqlite:
            self._lite = sqlite3.connect(db.raw, isolation_level=None, timeout=60)
            self._lite.execute("PRAGMA foreign_keys = ON")
        else:
            self._pg = psycopg.connect(db.raw, autocommit=True)
        self._get = _get_sql(self.sqlite)

    def close(self) -> None:
        """Close the connection."""
        if self.sqlite:
            self._lite.close()
        else:
            self._pg.close()

    def prepare(self, config: ModelConfig) -> PreparedRow:
        """Column values and revision document of ``config`` (not timed)."""

        def money(value: float) -> Any:
            exact = exact_decimal(value)
            return format(exact.normalize(), "f") if self.sqlite else exact

        def day(value: Any) -> Any:
            return value.isoformat() if self.sqlite and value is not None else value

        scores = config.quality_scores
        values = (
            config.display_name,
            config.context_window,
            config.max_output_tokens,
            money(config.cost_per_1m_input_tokens),
            money(config.cost_per_1m_output_tokens),
            config.rate_limit_rpm,
            config.rate_limit_tpm,
            config.latency_p50_ms,
            config.latency_p99_ms,
            config.status.value,
            *(getattr(scores, name) for name in QUALITY_DIMENSIONS),
            day(config.deprecation_date),
            day(config.retirement_date),
            config.successor_model_id,
        )
        return PreparedRow(
            config.model_id,
            config.provider,
            values,
            tuple(sorted(config.capabilities.names())),
            config.model_dump(mode="json"),
        )

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now

    # -- reads -----------------------------------------------------------------------------

    def get_model(self, model_id: str) -> tuple[Any, ...] | None:
        """The model's row with provider and capabilities: one prepared statement."""
        if self.sqlite:
            row: tuple[Any, ...] | None = self._lite.execute(self._get, (model_id,)).fetchone()
            return row
        return self._pg.execute(self._get, (model_id,), prepare=True).fetchone()

    def last_version(self, model_id: str) -> int:
        """The model's newest version (to number the reference's own writes)."""
        sql = "SELECT max(version) FROM model_revisions WHERE model_id = " + (
            "?" if self.sqlite else "%s"
        )
        if self.sqlite:
            found = self._lite.execute(sql, (model_id,)).fetchone()
        else:
            found = self._pg.execute(sql, (model_id,)).fetchone()
        return int(found[0] or 0) if found else 0

    # -- writes ----------------------------------------------------------------------------

    def write(self, row: PreparedRow, *, version: int, change: str) -> None:
        """Replace the model's columns and append its revision: one transaction, committed."""
        columns = _MODEL_COLUMNS[2:19]
        key = "?" if self.sqlite else "%s"
        update = (
            "UPDATE models SET "
            + ", ".join(f"{name} = {key}" for name in (*columns, "version", "updated_at"))
            + f" WHERE model_id = {key}"
        )
        insert = (
            f"INSERT INTO model_revisions ({', '.join(_REVISION_COLUMNS)}) "
            f"VALUES ({', '.join([key] * len(_REVISION_COLUMNS))})"
        )
        now = self._now()
        document = json.dumps(row.document)
        revision = (row.model_id, version, change, document, now, _ACTOR, None)
        if self.sqlite:
            self._lite.execute("BEGIN IMMEDIATE")
            self._lite.execute(update, (*row.values, version, now, row.model_id))
            self._lite.execute(insert, revision)
            self._lite.execute("COMMIT")
            return
        with self._pg.transaction():
            self._pg.execute(update, (*row.values, version, now, row.model_id), prepare=True)
            self._pg.execute(insert, revision, prepare=True)
            # As a catalog write does: other processes hear of it at commit.
            self._pg.execute("SELECT pg_notify('mr_bench_reference_write', '')", prepare=True)

    def bulk_import(self, rows: list[PreparedRow]) -> None:
        """Insert new models, their capability links and version-1 revisions, one transaction.

        PostgreSQL: ``COPY`` for the three tables; SQLite: ``executemany``. Provider and
        capability names are looked up (and the missing ones inserted) first.
        """
        if self.sqlite:
            self._import_sqlite(rows)
        else:
            self._import_postgres(rows)

    def _import_postgres(self, rows: list[PreparedRow]) -> None:
        now = self._now()
        with self._pg.transaction(), self._pg.cursor() as cursor:
            providers = self._pg_names(cursor, "providers", {row.provider for row in rows})
            capabilities = self._pg_names(
                cursor, "capabilities", {name for row in rows for name in row.capabilities}
            )
            with cursor.copy(f"COPY models ({', '.join(_MODEL_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        (row.model_id, providers[row.provider], *row.values, 1, now, now)
                    )
            cursor.execute("SELECT model_id, id FROM models")
            keys: dict[str, int] = dict(cursor.fetchall())
            with cursor.copy(
                "COPY model_capabilities (model_pk, capability_id) FROM STDIN"
            ) as copy:
                for row in rows:
                    for name in row.capabilities:
                        copy.write_row((keys[row.model_id], capabilities[name]))
            columns = ", ".join(_REVISION_COLUMNS)
            with cursor.copy(f"COPY model_revisions ({columns}) FROM STDIN") as copy:
                for row in rows:
                    document = json.dumps(row.document)
                    copy.write_row((row.model_id, 1, "created", document, now, _ACTOR, None))

    @staticmethod
    def _pg_names(cursor: psycopg.Cursor[Any], table: str, names: set[str]) -> dict[str, int]:
        cursor.executemany(
            f"INSERT INTO {table} (name) VALUES (%s) ON CONFLICT DO NOTHING",
            [(name,) for name in sorted(names)],
        )
        cursor.execute(f"SELECT name, id FROM {table}")
        return dict(cursor.fetchall())

    def _import_sqlite(self, rows: list[PreparedRow]) -> None:
        lite = self._lite
        now = self._now()
        lite.execute("BEGIN IMMEDIATE")
        try:
            providers = self._lite_names("providers", {row.provider for row in rows})
            capabilities = self._lite_names(
                "capabilities", {name for row in rows for name in row.capabilities}
            )
            marks = ", ".join(["?"] * len(_MODEL_COLUMNS))
            lite.executemany(
                f"INSERT INTO models ({', '.join(_MODEL_COLUMNS)}) VALUES ({marks})",
                [(row.model_id, providers[row.provider], *row.values, 1, now, now) for row in rows],
            )
            keys: dict[str, int] = dict(lite.execute("SELECT model_id, id FROM models").fetchall())
            lite.executemany(
                "INSERT INTO model_capabilities (model_pk, capability_id) VALUES (?, ?)",
                [
                    (keys[row.model_id], capabilities[name])
                    for row in rows
                    for name in row.capabilities
                ],
            )
            marks = ", ".join(["?"] * len(_REVISION_COLUMNS))
            lite.executemany(
                f"INSERT INTO model_revisions ({', '.join(_REVISION_COLUMNS)}) VALUES ({marks})",
                [
                    (row.model_id, 1, "created", json.dumps(row.document), now, _ACTOR, None)
                    for row in rows
                ],
            )
        except BaseException:
            lite.execute("ROLLBACK")
            raise
        lite.execute("COMMIT")

    def _lite_names(self, table: str, names: set[str]) -> dict[str, int]:
        self._lite.executemany(
            f"INSERT OR IGNORE INTO {table} (name) VALUES (?)", [(name,) for name in sorted(names)]
        )
        return dict(self._lite.execute(f"SELECT name, id FROM {table}").fetchall())


def timed_ns(function: Any, *args: Any) -> float:
    """Nanoseconds one call of ``function(*args)`` takes."""
    started = time.perf_counter_ns()
    function(*args)
    return float(time.perf_counter_ns() - started)
