"""Shared by the tests: one valid model config, many invalid ones, a database snapshot."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
import threading
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from typer.testing import Result


class Cli(Protocol):
    """Runs ``modelregistry --database-url <the test database> ARGS...`` (fixture ``cli``)."""

    def __call__(self, *args: str) -> Result: ...


# The seed's custom model (Execution Examples), as a mapping of ModelConfig fields.
GPT4_TURBO: dict[str, Any] = {
    "model_id": "gpt-4-turbo",
    "provider": "openai",
    "display_name": "GPT-4 Turbo",
    "capabilities": {
        "supports_streaming": True,
        "supports_vision": True,
        "supports_tool_use": True,
        "supports_json_mode": True,
    },
    "context_window": 128000,
    "max_output_tokens": 4096,
    "cost_per_1m_input_tokens": 10.0,
    "cost_per_1m_output_tokens": 30.0,
    "rate_limit_rpm": 500,
    "rate_limit_tpm": 90000,
    "latency_p50_ms": 1000,
    "latency_p99_ms": 5000,
    "status": "active",
    "quality_scores": {"reasoning": 0.90, "coding": 0.88, "creative": 0.85, "summarization": 0.87},
}


def config(**changes: Any) -> dict[str, Any]:
    """GPT4_TURBO with ``changes`` applied (a value of ``...`` removes the field)."""
    data = {**GPT4_TURBO, **changes}
    return {key: value for key, value in data.items() if value is not ...}


class Invalid(NamedTuple):
    """An invalid config, the field it breaks and a fragment of the rule's wording."""

    data: dict[str, Any]
    field: str
    rule: str


INVALID: dict[str, Invalid] = {
    "model_id missing": Invalid(config(model_id=...), "model_id", "required"),
    "model_id empty": Invalid(config(model_id=""), "model_id", "1-256 characters"),
    "model_id too long": Invalid(config(model_id="m" * 257), "model_id", "1-256 characters"),
    "model_id space": Invalid(config(model_id="gpt 4"), "model_id", "whitespace"),
    "model_id tab": Invalid(config(model_id="gpt\t4"), "model_id", "whitespace"),
    "model_id newline": Invalid(config(model_id="gpt-4\n"), "model_id", "whitespace"),
    "model_id NUL": Invalid(config(model_id="gpt\x004"), "model_id", "control"),
    "model_id zero-width": Invalid(config(model_id="gpt\u200b4"), "model_id", "control"),
    "model_id not a string": Invalid(config(model_id=4), "model_id", "valid string"),
    "provider missing": Invalid(config(provider=...), "provider", "required"),
    "provider space": Invalid(config(provider="open ai"), "provider", "[a-z0-9][a-z0-9._-]*"),
    "provider leading dash": Invalid(config(provider="-ai"), "provider", "[a-z0-9]"),
    "provider empty": Invalid(config(provider=""), "provider", "[a-z0-9]"),
    "provider too long": Invalid(config(provider="p" * 65), "provider", "at most 64"),
    "display_name empty": Invalid(config(display_name=""), "display_name", "1-256"),
    "display_name newline": Invalid(config(display_name="GPT\n4"), "display_name", "control"),
    "context_window missing": Invalid(config(context_window=...), "context_window", "required"),
    "context_window zero": Invalid(config(context_window=0), "context_window", "greater than 0"),
    "context_window negative": Invalid(
        config(context_window=-1), "context_window", "greater than 0"
    ),
    "context_window float": Invalid(config(context_window=1.5), "context_window", "valid integer"),
    "context_window string": Invalid(
        config(context_window="128000"), "context_window", "valid integer"
    ),
    "context_window bool": Invalid(config(context_window=True), "context_window", "integer"),
    "context_window huge": Invalid(
        config(context_window=2**63), "context_window", "less than or equal"
    ),
    "max_output_tokens missing": Invalid(
        config(max_output_tokens=...), "max_output_tokens", "required"
    ),
    "max_output_tokens zero": Invalid(
        config(max_output_tokens=0), "max_output_tokens", "greater than 0"
    ),
    "input cost negative": Invalid(
        config(cost_per_1m_input_tokens=-0.01), "cost_per_1m_input_tokens", "greater than or"
    ),
    "input cost NaN": Invalid(
        config(cost_per_1m_input_tokens=float("nan")), "cost_per_1m_input_tokens", "finite"
    ),
    "output cost infinite": Invalid(
        config(cost_per_1m_output_tokens=float("inf")), "cost_per_1m_output_tokens", "finite"
    ),
    "output cost above bound": Invalid(
        config(cost_per_1m_output_tokens=10_000.01), "cost_per_1m_output_tokens", "10000"
    ),
    "input cost too precise": Invalid(
        config(cost_per_1m_input_tokens=0.00000000001),
        "cost_per_1m_input_tokens",
        "10 decimal places",
    ),
    "input cost Decimal NaN": Invalid(
        config(cost_per_1m_input_tokens=Decimal("NaN")), "cost_per_1m_input_tokens", "finite"
    ),
    "input cost string": Invalid(
        config(cost_per_1m_input_tokens="10"), "cost_per_1m_input_tokens", "valid number"
    ),
    "input cost bool": Invalid(
        config(cost_per_1m_input_tokens=True), "cost_per_1m_input_tokens", "valid number"
    ),
    "rpm negative": Invalid(config(rate_limit_rpm=-1), "rate_limit_rpm", "greater than or"),
    "tpm float": Invalid(config(rate_limit_tpm=1.5), "rate_limit_tpm", "valid integer"),
    "p50 negative": Invalid(config(latency_p50_ms=-5), "latency_p50_ms", "greater than or"),
    "p99 below p50": Invalid(
        config(latency_p50_ms=1000, latency_p99_ms=999), "latency_p99_ms", ">= latency_p50_ms"
    ),
    "quality above 1": Invalid(
        config(quality_scores={"coding": 1.01}), "quality_scores.coding", "less than or equal"
    ),
    "quality negative": Invalid(
        config(quality_scores={"reasoning": -0.1}), "quality_scores.reasoning", "greater than"
    ),
    "quality NaN": Invalid(
        config(quality_scores={"creative": float("nan")}), "quality_scores.creative", "finite"
    ),
    "quality unknown dimension": Invalid(
        config(quality_scores={"humour": 0.5}), "quality_scores.humour", "not a known field"
    ),
    "status unknown": Invalid(config(status="retired"), "status", "active"),
    "capability not a bool": Invalid(
        config(capabilities={"supports_vision": "yes"}), "capabilities.supports_vision", "boolean"
    ),
    "capability flag misnamed": Invalid(
        config(capabilities={"vision": True}), "capabilities", "supports_<name>"
    ),
    "capability flag bad name": Invalid(
        config(capabilities={"supports_Pdf-Input": True}), "capabilities", "supports_<name>"
    ),
    "extra capability not a bool": Invalid(
        config(capabilities={"supports_reasoning": 1}),
        "capabilities.supports_reasoning",
        "boolean",
    ),
    "unknown field": Invalid(config(contxt_window=5), "contxt_window", "not a known field"),
    "display_name too long": Invalid(config(display_name="d" * 257), "display_name", "1-256"),
    "display_name not a string": Invalid(config(display_name=7), "display_name", "valid string"),
    "provider not a string": Invalid(config(provider=7), "provider", "valid string"),
    "provider invalid once lowercased": Invalid(config(provider="Open/AI"), "provider", "[a-z0-9]"),
    "max_output_tokens negative": Invalid(
        config(max_output_tokens=-4096), "max_output_tokens", "greater than 0"
    ),
    "max_output_tokens float": Invalid(
        config(max_output_tokens=4096.0), "max_output_tokens", "valid integer"
    ),
    "max_output_tokens huge": Invalid(
        config(max_output_tokens=2**63), "max_output_tokens", "less than or equal"
    ),
    "input cost above bound": Invalid(
        config(cost_per_1m_input_tokens=10_001), "cost_per_1m_input_tokens", "10000"
    ),
    "output cost negative": Invalid(
        config(cost_per_1m_output_tokens=-1.0), "cost_per_1m_output_tokens", "greater than or"
    ),
    "p99 negative": Invalid(config(latency_p99_ms=-1), "latency_p99_ms", "greater than or"),
    "rpm float": Invalid(config(rate_limit_rpm=60.5), "rate_limit_rpm", "valid integer"),
    "capability key not a string": Invalid(
        config(capabilities={1: True}), "capabilities", "supports_<name>"
    ),
    "capabilities in any mapping are checked": Invalid(
        config(capabilities=MappingProxyType({"foo": True, "a,b": True})),
        "capabilities",
        "supports_<name>",
    ),
    "capability given twice with different values": Invalid(
        config(capabilities={"supports_vision": True, "Supports_Vision": False}),
        "capabilities",
        "given twice",
    ),
    "capabilities not a mapping": Invalid(config(capabilities=["vision"]), "capabilities", ""),
    "quality_scores not a mapping": Invalid(config(quality_scores=0.9), "quality_scores", ""),
    "version given as input": Invalid(config(version=3), "version", "assigned by the registry"),
    "retirement before deprecation": Invalid(
        config(deprecation_date="2026-06-01", retirement_date="2026-05-31"),
        "retirement_date",
        "not be before deprecation_date",
    ),
    "retirement date not a date": Invalid(
        config(retirement_date="next spring"), "retirement_date", "valid date"
    ),
    "successor is itself": Invalid(
        config(successor_model_id="gpt-4-turbo"), "successor_model_id", "differ from model_id"
    ),
    "successor id invalid": Invalid(
        config(successor_model_id="gpt 5"), "successor_model_id", "whitespace"
    ),
    "modality unknown": Invalid(
        config(input_modalities=["text", "smell"]), "input_modalities", "not a modality"
    ),
    "modalities a string": Invalid(
        config(output_modalities="text"), "output_modalities", "list of modalities"
    ),
    "mode unknown": Invalid(config(mode="telepathy"), "mode", "'chat'"),
    "release_date no day": Invalid(config(release_date="2024-02-30"), "release_date", "real"),
    "knowledge_cutoff a year": Invalid(
        config(knowledge_cutoff="2024"), "knowledge_cutoff", "YYYY-MM"
    ),
    "open_weights text": Invalid(config(open_weights="yes"), "open_weights", "boolean"),
    "tag key uppercase": Invalid(config(tags={"Team": "x"}), "tags", "[a-z][a-z0-9_.-]*"),
    "tag value empty": Invalid(config(tags={"team": ""}), "tags", "1-256 characters"),
    "tag value newline": Invalid(config(tags={"team": "a\nb"}), "tags", "control characters"),
    "tag value not text": Invalid(config(tags={"tier": 1}), "tags", "must be a string"),
    "tags a list": Invalid(config(tags=["team=x"]), "tags", "mapping"),
}


CATALOG_TABLES = (
    "providers",
    "capabilities",
    "models",
    "model_capabilities",
    "model_revisions",
    "model_prices",
    "model_aliases",
    "sync_sources",
    "model_sync_bases",
    "model_price_restatements",
    "model_price_rates",
    "model_tags",
)
"""Every table of the catalog (views aside), in the order their rows are compared."""


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every catalog table, to prove that nothing was written."""
    with engine.connect() as connection:
        return {
            table: [
                tuple(row)
                # Table names are the constants above, not input.
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}")  # noqa: S608
            ]
            for table in CATALOG_TABLES
        }


def database_dump(url: str, *, sequences: bool = True) -> list[str]:
    """The whole database behind ``url``, schema and rows, in a fixed order.

    Equal dumps mean an unchanged database. SQLite: ``iterdump`` of the file. PostgreSQL:
    every table of the URL's schema with its columns and rows (ordered by every column), and
    unless ``sequences`` is False every sequence's position, so that even a rolled-back
    insert shows (sequences are not transactional: an aborted write moves them on).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(str(parsed.database))) as connection:
            return list(connection.iterdump())
    engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    lines: list[str] = []
    try:
        with engine.connect() as connection:
            columns: dict[str, list[str]] = {}
            for table, column in connection.exec_driver_sql(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
            ):
                columns.setdefault(table, []).append(column)
            for table, names in columns.items():
                lines.append(f"TABLE {table} {names}")
                every_column = ", ".join(str(n) for n in range(1, len(names) + 1))
                # Names come from the catalog of the test's own schema, not from input.
                query = f'SELECT * FROM "{table}" ORDER BY {every_column}'  # noqa: S608
                lines.extend(repr(tuple(row)) for row in connection.exec_driver_sql(query))
            if sequences:
                for (sequence,) in connection.exec_driver_sql(
                    "SELECT sequence_name FROM information_schema.sequences"
                    " WHERE sequence_schema = current_schema() ORDER BY sequence_name"
                ).all():
                    position = connection.exec_driver_sql(
                        f'SELECT last_value, is_called FROM "{sequence}"'  # noqa: S608 - ditto
                    ).one()
                    lines.append(f"SEQUENCE {sequence} {tuple(position)}")
    finally:
        engine.dispose()
    return lines


def in_threads(work: Callable[[int], object], count: int) -> list[BaseException]:
    """Run ``work(n)`` for n in range(count), each in its own thread; return what they raised."""
    raised: list[BaseException] = []

    def run(number: int) -> None:
        try:
            work(number)
        except BaseException as exc:  # noqa: BLE001 - handed to the test to assert on
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return raised


def in_processes(
    target: Callable[..., None], argument_lists: list[tuple[Any, ...]], *, timeout: float
) -> list[Any]:
    """Start one spawned process per argument list, all released at once by a barrier.

    Each process runs ``target(*arguments, barrier, results)`` and puts one outcome on
    ``results``; return the outcomes, in arrival order.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(argument_lists))
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(*arguments, barrier, results))
        for arguments in argument_lists
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=timeout) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return outcomes
