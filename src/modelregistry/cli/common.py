"""Shared by the command groups: the Typer apps, consoles, options, errors and printing.

A new command group is a module under ``cli/`` that imports its app (or :data:`app`) from here
and registers its commands with decorators; it is listed in :data:`COMMAND_MODULES` (one line).
Its top level imports only typer, rich and this module: the registry, SQLAlchemy, pydantic and
the domain are imported inside the command functions (``modelregistry --help`` stays fast; a
test checks it).
"""

from __future__ import annotations

import importlib
import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperGroup, TyperOption

from modelregistry import __version__
from modelregistry.errors import (
    MAX_LISTED_PROBLEMS,
    InvalidArgumentError,
    InvalidCatalogFileError,
    ModelRegistryError,
    SchemaOutdatedError,
)
from modelregistry.settings import ACTOR_VARIABLE, DATABASE_URL_VARIABLE

# typer 0.29 carries its own copy of click (typer._click), whose exceptions and contexts are
# the ones raised and passed here; 0.26 to 0.28 (pyproject.toml's lower bound) run on click.
if TYPE_CHECKING:
    from typer._click import core as click_core
    from typer._click import exceptions as click_errors
    from typer._click import globals as click_globals
else:
    try:
        from typer._click import core as click_core
        from typer._click import exceptions as click_errors
        from typer._click import globals as click_globals
    except ImportError:
        from click import core as click_core
        from click import exceptions as click_errors
        from click import globals as click_globals

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from modelregistry.db.engine import Engine
    from modelregistry.registry import ModelRegistry

COMMAND_MODULES = (
    "db",
    "files",
    "info",
    "metrics",
    "models",
    "prices",
    "relay",
    "serve",
    "stats",
    "sync",
    "model_edits",
    "catalog_doc",
)
"""The modules under ``cli/`` that register commands (imported by :func:`register`)."""


_PLAIN_TEXT = frozenset({"database_url", "install_completion", "show_completion", "help"})
"""The root's options whose values are text or None (typer's completion and help too)."""


class _TextOption(TyperOption):
    """An option whose value is text (or None): no conversion, so no pydantic."""

    def process_value(self, ctx: click_core.Context, value: Any) -> Any:  # noqa: ANN401 - click's
        """Return the value as given (after the option's callback, if any)."""
        if self.callback is not None:
            value = self.callback(ctx, self, value)
        return value


class _Argument(TyperArgument):
    """An argument whose help shows its metavar (``ID``), not typer's ``ID <str>``."""

    def display_type_rich(self, ctx: click_core.Context) -> str | None:
        """No type label: the metavar says it."""
        del ctx
        return None


def _plain_arguments(command: object) -> None:
    for param in getattr(command, "params", ()):
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
    for child in getattr(command, "commands", {}).values():
        _plain_arguments(child)


class _Group(TyperGroup):
    """Usage errors as one ``error:`` line on stderr (exit 2), like every other error.

    Typer draws them in a box; a script reading stderr, or a user at a narrow terminal, wants
    the one line. Used by the root command, so every subcommand's errors pass through here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - click's arguments
        """The root group; every argument below it shows its metavar alone in help."""
        super().__init__(*args, **kwargs)
        _plain_arguments(self)

    def parse_args(self, ctx: click_core.Context, args: list[str]) -> list[str]:
        """Parse the root's options, its text options' values passed through as given.

        typer 0.29 converts every option's value with pydantic, even a None: the root's
        ``--database-url`` (and typer's completion options, added after ``__init__``) would
        load pydantic for every ``modelregistry GROUP --help``. Text needs no conversion.
        """
        for param in [*self.params, self.get_help_option(ctx)]:
            if isinstance(param, TyperOption) and param.name in _PLAIN_TEXT:
                param.__class__ = _TextOption
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override] # the base's keywords, passed through
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,  # noqa: ANN401 - click's keywords
    ) -> Any:  # noqa: ANN401 - click's return value
        """Run the command; report a usage error on one line (exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.UsageError as exc:
            err.print(usage_line(exc))
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            err.print(f"error: {exc.format_message()}".replace("\n", " "))
            sys.exit(exc.exit_code)
        except typer.Abort:
            err.print("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: click_errors.UsageError) -> str:
    """``error: <command>: <what is wrong> (see <command> --help)``, on one line."""
    message = exc.format_message().strip().replace("Value error, ", "")
    message = message[:1].lower() + message[1:]
    if exc.ctx is None:
        return f"error: {message}".replace("\n", " ")
    path = exc.ctx.command_path
    return f"error: {path}: {message} (see {path} --help)".replace("\n", " ")


def command_group(help_text: str, example: str, **options: Any) -> typer.Typer:  # noqa: ANN401 - typer's
    """A command group whose ``--help`` ends with ``Example: <example>``.

    A new group: ``sync_app = command_group("...", "modelregistry sync plan")`` then
    ``app.add_typer(sync_app, name="sync")`` in its own module (listed in COMMAND_MODULES).
    """
    return typer.Typer(
        help=help_text, epilog=f"Example: {example}", rich_markup_mode=None, **options
    )


app = command_group(
    "Manage the LLM catalog: models, their capabilities, limits, prices and status.",
    "modelregistry models list --capability vision",
    name="modelregistry",
    cls=_Group,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
db_app = command_group(
    "Schema migrations of the catalog database.", "modelregistry db upgrade", no_args_is_help=True
)
models_app = command_group(
    "List, show and change models (alone: list them).",
    "modelregistry models show llama3.1:8b",
    invoke_without_command=True,
)
prices_app = command_group(
    "Prices of models over time.", "modelregistry prices history llama3.1:8b", no_args_is_help=True
)
aliases_app = command_group(
    "Other names of models (alone: list them).",
    "modelregistry aliases set llama3 llama3.1:8b",
    invoke_without_command=True,
)
metrics_app = command_group(
    "Prometheus metrics of the catalog.",
    "modelregistry metrics serve --port 9464",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(prices_app, name="prices")
app.add_typer(aliases_app, name="aliases")
app.add_typer(metrics_app, name="metrics")
overrides_app = command_group(  # commands in sync.py
    "Local edits of synced models.", "modelregistry overrides list gpt-4o", no_args_is_help=True
)
app.add_typer(overrides_app, name="overrides")
catalog_app = command_group(  # commands in catalog_doc.py
    "The catalog file format.", "modelregistry catalog schema", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")

out = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


def register() -> None:
    """Import the command modules of :data:`COMMAND_MODULES`: they register their commands."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"modelregistry.cli.{name}")


def run(application: typer.Typer) -> None:
    """Run ``application`` as the console script does."""
    application()


def usage_error(message: str, ctx: typer.Context) -> NoReturn:
    """Stop with a usage error: one ``error:`` line, exit 2."""
    raise click_errors.UsageError(message, ctx=ctx)


def invoke_alone(ctx: typer.Context, command: str) -> None:
    """A group given no subcommand runs ``command`` (``models`` alone lists, as ``models list``)."""
    if ctx.invoked_subcommand is not None or ctx.resilient_parsing:
        return
    group = ctx.command
    assert isinstance(group, TyperGroup)  # noqa: S101 - a group's callback
    chosen = group.get_command(ctx, command)
    assert chosen is not None  # noqa: S101 - registered with the group
    with chosen.make_context(command, [], parent=ctx) as sub:
        chosen.invoke(sub)


def warn(message: str) -> None:
    """A notice on stderr (``note: ...``): what a command did that the user did not ask for."""
    err.print(f"note: {message}".replace("\n", " "))


def deprecated(
    old: str, new: str
) -> Callable[[click_core.Context, click_core.Parameter, Any], Any]:
    """A callback for the option ``old``: a warning on stderr to use ``new`` instead."""

    def callback(ctx: click_core.Context, _param: click_core.Parameter, value: Any) -> Any:  # noqa: ANN401 - any option's value
        if value not in (None, False, (), []) and not ctx.resilient_parsing:
            err.print(f"warning: {old} is deprecated and goes in the next release; use {new}")
        return value

    return callback


def either(new: Any, old: Any, names: tuple[str, str]) -> Any:  # noqa: ANN401 - any option's value
    """The value of an option given under its ``new`` or its deprecated ``old`` name.

    Raises:
        click_errors.UsageError: both are given (exit 2).
    """
    if new is not None and old is not None:
        msg = f"{names[1]} is the old name of {names[0]}: give one"
        raise click_errors.UsageError(msg)
    return old if new is None else new


JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
ActorOption = typer.Option(
    None,
    "--actor",
    metavar="TEXT",
    help=f"Who makes the change (default: ${ACTOR_VARIABLE}, else your user).",
)
ReasonOption = typer.Option(
    None, "--reason", metavar="TEXT", help="Why; recorded in the model's history."
)
ExpectedVersionOption = typer.Option(
    None,
    "--expected-version",
    min=0,
    metavar="INTEGER",
    help="Refuse (E4030) unless the model is at this version.",
)
AtOption = typer.Option(
    None,
    "--at",
    metavar="TIME",
    help="At this ISO 8601 time (UTC when no offset is given; default: now).",
)
AsOfOption = typer.Option(
    None, "--as-of", hidden=True, callback=deprecated("--as-of", "--at"), help="Old name of --at."
)
YesOption = typer.Option(False, "--yes", "-y", help="Confirm without asking.")

# The servers' options (``serve`` and ``metrics serve``).
DEFAULT_POLL_INTERVAL = 1.0
"""The registry's default (``modelregistry.registry.DEFAULT_POLL_INTERVAL``; a test holds
them equal), written here so that ``--help`` does not import the registry."""
HostOption = typer.Option(
    "127.0.0.1",
    "--host",
    metavar="HOST",
    help="Address to listen on (0.0.0.0 or :: lets other hosts connect).",
)
PollIntervalOption = typer.Option(
    DEFAULT_POLL_INTERVAL,
    "--poll-interval",
    min=0.01,
    metavar="SECONDS",
    help="Seconds between the change feed's checks of the catalog.",
)


def port_option(default: int) -> Any:  # noqa: ANN401 - typer's OptionInfo
    """``--port`` with this server's default port (no short form: ``-p`` is ``--provider``)."""
    return typer.Option(
        default,
        "--port",
        min=0,
        max=65535,
        metavar="INTEGER",
        help="TCP port (0: any free port, printed).",
    )


def max_connections_option(default: int) -> Any:  # noqa: ANN401 - typer's OptionInfo
    """``--max-connections`` with this server's default."""
    return typer.Option(
        default,
        "--max-connections",
        min=1,
        metavar="INTEGER",
        help="Connections at once; past it, 503.",
    )


def parse_instant(value: str | None, option: str = "--at") -> datetime | None:
    """Parse a time option: ISO 8601, UTC when no offset is given."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not an ISO 8601 time (e.g. 2026-01-01T00:00:00Z)"
        raise typer.BadParameter(msg, param_hint=f"'{option}'") from exc
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        msg = f"{value!r} is outside the years 1-9999 in UTC"
        raise typer.BadParameter(msg, param_hint=f"'{option}'") from exc


@dataclass(frozen=True, slots=True)
class Options:
    """The options of the root command, for every command (``ctx.obj``)."""

    database_url: str | None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelregistry {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        "--db",
        envvar=DATABASE_URL_VARIABLE,
        show_envvar=True,
        metavar="URL",
        help="SQLAlchemy URL of the catalog: sqlite:///FILE or postgresql://USER@HOST/DB "
        "(default: the embedded SQLite file).",
    ),
    _show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    ctx.obj = Options(database_url=database_url)


def fail(exc: ModelRegistryError) -> NoReturn:
    """Report ``exc`` on stderr and exit 1 (2 for a bad option value the registry refused)."""
    usage = _as_usage_error(exc)
    if usage is not None:
        raise usage from exc
    report(exc)
    raise typer.Exit(1) from exc


_FIELD_OPTIONS = {
    "statuses": "status",
    "capabilities": "capability",
    "any_capabilities": "any_capability",
    "providers": "provider",
    "min_context_window": "min_context",
    "min_max_output_tokens": "min_output",
    "max_cost_per_1m_input": "max_input_cost",
    "max_cost_per_1m_output": "max_output_cost",
    "max_latency_p50_ms": "max_latency",
    "as_of": "at",
    "input_modalities": "input_modality",
    "output_modalities": "output_modality",
    "tags": "tag",
}
"""The registry's argument names whose option is named otherwise."""


def _as_usage_error(exc: ModelRegistryError) -> click_errors.UsageError | None:
    """A filter or bound the registry refused (E4007) as the usage error of its option."""
    ctx = click_globals.get_current_context(silent=True)
    violations = getattr(exc, "violations", [])
    if ctx is None or not isinstance(exc, InvalidArgumentError) or not violations:
        return None
    params = {param.name: param for param in ctx.command.params}
    field = violations[0].field.split(".")[0].split("[")[0]
    param = params.get(_FIELD_OPTIONS.get(field, field))
    if param is None or not param.opts[0].startswith("-"):
        return None
    details = "; ".join(
        f"{v.rule}" + ("" if v.value is None else f" (got {v.value!r})") for v in violations
    )
    return click_errors.BadParameter(details, ctx=ctx, param_hint=f"'{param.opts[0]}'")


def report(exc: ModelRegistryError) -> None:
    """One line; a catalog file with several problems gets one more line per problem."""
    violations = getattr(exc, "violations", [])
    if isinstance(exc, InvalidCatalogFileError) and len(violations) > 1:
        source = exc.context.get("source")
        err.print(f"error: {exc.code}: invalid catalog {source}: {len(violations)} problems")
        for violation in violations[:MAX_LISTED_PROBLEMS]:
            err.print(f"  {violation}".replace("\n", " "))
        if len(violations) > MAX_LISTED_PROBLEMS:
            err.print(f"  ... and {len(violations) - MAX_LISTED_PROBLEMS} more")
        return
    if isinstance(exc, SchemaOutdatedError):
        err.print(
            f"error: {exc.code}: the database schema is at revision "
            f"{exc.context['current_revision']}, this version needs "
            f"{exc.context['head_revision']}; run `modelregistry db upgrade`"
        )
        return
    err.print(f"error: {exc}".replace("\n", " "))


@contextmanager
def catalog(ctx: typer.Context) -> Iterator[ModelRegistry]:
    """Open the registry named by ``--database-url`` (errors: one line, exit 1).

    Says on stderr when opening created the embedded file or created and seeded the schema.
    """
    from modelregistry.db import migrate  # noqa: PLC0415 - see the module docstring
    from modelregistry.db.engine import is_memory_sqlite  # noqa: PLC0415 - ditto
    from modelregistry.registry import ModelRegistry  # noqa: PLC0415 - ditto
    from modelregistry.settings import default_database_path  # noqa: PLC0415 - ditto

    options: Options = ctx.obj
    try:
        url = resolved_url(options.database_url)
        default = default_database_path()
        new_file = url == f"sqlite:///{default}" and not default.exists()
        with migrate.database(url) as engine:
            memory = is_memory_sqlite(engine.url)
            empty = not new_file and not memory and migrate.current(engine) is None
        # One-shot commands read the database directly: loading the whole catalog into a
        # cache (and starting its change feed) would cost more than the one query they make.
        with ModelRegistry(url, cache=False) as registry:
            if new_file:
                warn(
                    f"created the catalog {default}, seeded with the default models "
                    f"(--db or ${DATABASE_URL_VARIABLE} names another)"
                )
            elif empty:
                warn(
                    f"the database was empty: created the catalog schema in {registry.url} "
                    "and seeded the default models"
                )
            yield registry
    except ModelRegistryError as exc:
        fail(exc)


def resolved_url(url: str | None) -> str:
    """The catalog's URL (``--db``, the environment, else the embedded file)."""
    from modelregistry.settings import resolve_database_url  # noqa: PLC0415 - see the docstring

    return resolve_database_url(url)


@contextmanager
def schema(ctx: typer.Context) -> Iterator[Engine]:
    """Open an engine for the ``db`` commands (errors: one line, exit 1)."""
    from modelregistry.db import migrate  # noqa: PLC0415 - see the module docstring

    options: Options = ctx.obj
    try:
        with migrate.database(options.database_url) as engine:
            yield engine
    except ModelRegistryError as exc:
        fail(exc)


def printable(text: str) -> str:
    """``text`` with its control characters escaped, as Python writes them.

    For free text such as a change's reason: what a writer typed must not drive the terminal
    of whoever reads the history (an escape sequence, a line break).
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
