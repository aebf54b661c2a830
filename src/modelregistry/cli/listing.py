"""The options of the commands that list models (``models list``, ``models find``).

Light on purpose (no domain, no pydantic): the command modules import it at their top, and
``--help`` must not load the catalog's libraries. The columns themselves are in
:mod:`modelregistry.cli.render` (a test holds :data:`COLUMN_NAMES` to them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import typer


class OutputFormat(StrEnum):
    """How a list of models is printed."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


COLUMN_NAMES: Final = (
    "model_id",
    "provider",
    "display_name",
    "status",
    "capabilities",
    "context_window",
    "max_output_tokens",
    "cost_per_1m_input_tokens",
    "cost_per_1m_output_tokens",
    "price",
    "rate_limit_rpm",
    "rate_limit_tpm",
    "latency_p50_ms",
    "latency_p99_ms",
    "quality.reasoning",
    "quality.coding",
    "quality.creative",
    "quality.summarization",
    "deprecation_date",
    "retirement_date",
    "successor_model_id",
    "input_modalities",
    "output_modalities",
    "mode",
    "release_date",
    "knowledge_cutoff",
    "open_weights",
    "tags",
    "version",
)
"""Every column ``--columns`` can name, in the order of ``render.COLUMNS``."""

STATUS_NAMES: Final = ("active", "deprecated", "disabled", "maintenance")
"""The statuses, for help texts (a test holds them to ``ModelStatus``)."""

ColumnsOption = typer.Option(
    None,
    "--columns",
    metavar="NAMES",
    help="Only these fields, comma-separated (or repeated): "
    + ", ".join(COLUMN_NAMES)
    + ". Default: a table of model_id, provider, status, context, price, capabilities.",
)
FormatOption = typer.Option(
    None,
    "--format",
    "-f",
    case_sensitive=False,
    metavar="FORMAT",
    help="table (default), json, or csv for spreadsheets.",
)
