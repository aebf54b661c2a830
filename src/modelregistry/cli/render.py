"""Lists of models as a table that fits 80 columns, CSV for spreadsheets, or JSON.

``--columns`` picks the fields (:data:`COLUMNS`), by their names in the catalog file and the
``model_catalog`` view; ``--format`` picks the form. Imported by the commands when they run
(it imports the domain, hence pydantic); the options live in :mod:`modelregistry.cli.listing`.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from modelregistry.cli.common import out, print_json, warn
from modelregistry.cli.listing import OutputFormat
from modelregistry.cli.tables import Column as TableColumn
from modelregistry.cli.tables import Fit, fields_table, fitted_table, print_table
from modelregistry.domain.models import QUALITY_DIMENSIONS
from modelregistry.domain.pricing import decimal_text, exact_decimal

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.table import Table

    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig


def money(value: float) -> str:
    """A price as plain decimal text: every digit, no trailing zeros, no exponent."""
    return decimal_text(exact_decimal(value))


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a model as a column: its header and its value as text and as JSON."""

    header: str
    text: Callable[[ModelConfig], str]
    json: Callable[[ModelConfig], Any]
    numeric: bool = False
    """Right-justified and never wrapped."""
    word: bool = False
    """Never wrapped (a status, a date)."""


def _field(
    name: str, *, numeric: bool = False, word: bool = False, header: str | None = None
) -> Column:
    def json_value(model: ModelConfig) -> Any:  # noqa: ANN401 - any JSON value
        return model.model_dump(mode="json", include={name})[name]

    def text(model: ModelConfig) -> str:
        value = json_value(model)
        return "" if value is None else str(value)

    return Column(header or name.upper(), text, json_value, numeric=numeric, word=word)


def _money(name: str, header: str) -> Column:
    return Column(
        header,
        lambda m: money(getattr(m, name)),
        lambda m: money(getattr(m, name)),
        numeric=True,
    )


def _quality(dimension: str) -> Column:
    return Column(
        dimension.upper(),
        lambda m: str(getattr(m.quality_scores, dimension)),
        lambda m: getattr(m.quality_scores, dimension),
        numeric=True,
    )


def _names(name: str, header: str) -> Column:
    return Column(header, lambda m: ",".join(getattr(m, name)), lambda m: list(getattr(m, name)))


def _tags(model: ModelConfig) -> str:
    return ",".join(f"{key}={value}" for key, value in model.tags.items())


def _open_weights(model: ModelConfig) -> str:
    return "" if model.open_weights is None else ("yes" if model.open_weights else "no")


COLUMNS: dict[str, Column] = {
    "model_id": _field("model_id", header="MODEL"),
    "provider": _field("provider"),
    "display_name": _field("display_name", header="NAME"),
    "status": _field("status", word=True),
    "capabilities": Column(
        "CAPABILITIES",
        lambda m: ",".join(sorted(m.capabilities.names())),
        lambda m: sorted(m.capabilities.names()),
    ),
    "context_window": _field("context_window", numeric=True, header="CONTEXT"),
    "max_output_tokens": _field("max_output_tokens", numeric=True, header="MAX OUT"),
    "cost_per_1m_input_tokens": _money("cost_per_1m_input_tokens", "$/1M IN"),
    "cost_per_1m_output_tokens": _money("cost_per_1m_output_tokens", "$/1M OUT"),
    "price": Column(
        "$/1M IN/OUT",
        lambda m: f"{money(m.cost_per_1m_input_tokens)}/{money(m.cost_per_1m_output_tokens)}",
        lambda m: [money(m.cost_per_1m_input_tokens), money(m.cost_per_1m_output_tokens)],
        numeric=True,
    ),
    "rate_limit_rpm": _field("rate_limit_rpm", numeric=True, header="RPM"),
    "rate_limit_tpm": _field("rate_limit_tpm", numeric=True, header="TPM"),
    "latency_p50_ms": _field("latency_p50_ms", numeric=True, header="P50 MS"),
    "latency_p99_ms": _field("latency_p99_ms", numeric=True, header="P99 MS"),
    **{f"quality.{name}": _quality(name) for name in QUALITY_DIMENSIONS},
    "deprecation_date": _field("deprecation_date", word=True, header="DEPRECATED"),
    "retirement_date": _field("retirement_date", word=True, header="RETIRES"),
    "successor_model_id": _field("successor_model_id", header="SUCCESSOR"),
    "input_modalities": _names("input_modalities", "INPUT"),
    "output_modalities": _names("output_modalities", "OUTPUT"),
    "mode": _field("mode", word=True),
    "release_date": _field("release_date", word=True, header="RELEASED"),
    "knowledge_cutoff": _field("knowledge_cutoff", word=True, header="CUTOFF"),
    "open_weights": Column("OPEN WEIGHTS", _open_weights, lambda m: m.open_weights, word=True),
    "tags": Column("TAGS", _tags, lambda m: dict(m.tags)),
    "version": Column("VERSION", lambda m: str(m.version), lambda m: m.version, numeric=True),
}
"""Every column ``--columns`` can name."""

TABLE_COLUMNS = ("model_id", "provider", "status", "context_window", "price", "capabilities")
"""The table's columns unless ``--columns`` says otherwise (they fit 80 columns)."""
CSV_COLUMNS = tuple(name for name in COLUMNS if name != "price")
"""The CSV's columns unless ``--columns`` says otherwise: every field, one per column."""


def chosen_columns(requested: list[str] | None) -> list[str] | None:
    """The column names of ``--columns`` (comma-separated or repeated), checked.

    Raises:
        typer.BadParameter: an unknown name (usage error, exit 2), naming the valid ones.
    """
    if not requested:
        return None
    names = [name.strip() for item in requested for name in item.split(",") if name.strip()]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown or not names:
        msg = f"unknown column {', '.join(unknown) or '(none)'}; choose from {', '.join(COLUMNS)}"
        raise typer.BadParameter(msg, param_hint="'--columns'")
    return names


def chosen_format(file_format: OutputFormat | None, *, as_json: bool) -> OutputFormat:
    """The output format from ``--format`` and ``--json`` (its shorthand).

    Raises:
        typer.BadParameter: ``--json`` with another ``--format`` (exit 2).
    """
    if as_json and file_format not in {None, OutputFormat.JSON}:
        msg = f"--json and --format {file_format} disagree: give one"
        raise typer.BadParameter(msg, param_hint="'--format'")
    return OutputFormat.JSON if as_json else file_format or OutputFormat.TABLE


def print_models(
    models: list[ModelConfig],
    *,
    file_format: OutputFormat = OutputFormat.TABLE,
    columns: list[str] | None = None,
) -> None:
    """Print models in ``file_format``, with ``columns`` (default: the format's own)."""
    if file_format is OutputFormat.JSON:
        if columns is None:
            print_json([model_json(model) for model in models])
        else:
            print_json([{name: COLUMNS[name].json(model) for name in columns} for model in models])
    elif file_format is OutputFormat.CSV:
        names = columns or list(CSV_COLUMNS)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([COLUMNS[name].text(model) for name in names] for model in models)
    elif models:
        names = columns or list(TABLE_COLUMNS)
        table, left_out = models_table(
            models, names, out.width, give_way=() if columns else GIVE_WAY
        )
        if table is None:
            print_records(models, names)
        else:
            print_table(table)
        if left_out:
            headers = ", ".join(COLUMNS[name].header for name in left_out)
            warn(f"{headers} left out at {out.width} columns: widen the terminal, or see --columns")
    else:
        typer.echo("no models match")


GIVE_WAY = ("capabilities",)
"""Default columns left out, in this order, when the table cannot fit with every word whole."""


def models_table(
    models: list[ModelConfig], columns: list[str], width: int, *, give_way: Sequence[str] = ()
) -> tuple[Table | None, list[str]]:
    """The model list as a table at most ``width`` columns wide, and the columns left out.

    Numbers, statuses and dates keep their width, ids stay whole up to 40 characters, headers
    wrap at their spaces and the other text (provider, name, the capability list) wraps at its
    spaces, never inside a word (:mod:`modelregistry.cli.tables`). When that cannot fit, the
    columns of ``give_way`` are left out, one at a time; the table is None when it still
    cannot (one block per model instead, with every column).
    """
    names = list(columns)
    left_out: list[str] = []
    while True:
        spec = [_table_column(name) for name in names]
        rows = [[_cell(name, model) for name in names] for model in models]
        table = fitted_table(spec, rows, width=width)
        leaving = next((name for name in give_way if name in names), None)
        if table is not None:
            return table, left_out
        if leaving is None:  # one block per model, every column in it
            return None, []
        names.remove(leaving)
        left_out.append(leaving)


def _table_column(name: str) -> TableColumn:
    column = COLUMNS[name]
    if name in {"model_id", "successor_model_id"}:
        fit = Fit.ID
    elif column.numeric or column.word:
        fit = Fit.WHOLE
    else:
        fit = Fit.WORDS
    return TableColumn(column.header, fit, right=column.numeric)


def print_records(models: list[ModelConfig], columns: list[str]) -> None:
    """One block of FIELD VALUE lines per model: for more columns than the terminal holds."""
    for number, model in enumerate(models):
        if number:
            typer.echo()
        print_table(fields_table({name: _cell(name, model) for name in columns}))


def _cell(name: str, model: ModelConfig) -> str:
    if name == "capabilities":
        return ", ".join(sorted(model.capabilities.names())) or "-"
    if name in {"context_window", "max_output_tokens", "rate_limit_rpm", "rate_limit_tpm"}:
        return f"{getattr(model, name):,}"
    return COLUMNS[name].text(model) or "-"


_MONEY_FIELDS = ("cost_per_1m_input_tokens", "cost_per_1m_output_tokens")


def model_json(model: ModelConfig) -> dict[str, Any]:
    """A model's ``--json`` form: :meth:`ModelConfig.to_dict`, money as exact decimal text."""
    data = model.to_dict()
    for name in _MONEY_FIELDS:
        data[name] = money(getattr(model, name))
    return data


def revision_json(revision: ModelRevision) -> dict[str, Any]:
    """A revision's ``--json`` form, its config's money as exact decimal text."""
    data = revision.to_dict()
    config = data.get("config")
    if isinstance(config, dict):
        for name in _MONEY_FIELDS:
            if isinstance(config.get(name), float | int):
                config[name] = money(config[name])
    return data


def model_rows(model: ModelConfig) -> dict[str, object]:
    """``models show``: every field, its numbers written as ``models list`` writes them."""
    rows: dict[str, object] = {}
    for name, value in model.to_dict().items():
        if name in COLUMNS and name != "capabilities":
            rows[name] = _cell(name, model)
        elif name == "capabilities":
            rows[name] = ", ".join(sorted(model.capabilities.names())) or "-"
        elif name == "quality_scores":
            rows[name] = ", ".join(
                f"{dimension}={getattr(model.quality_scores, dimension)}"
                for dimension in QUALITY_DIMENSIONS
            )
        else:
            rows[name] = "-" if value is None else value
    return rows
