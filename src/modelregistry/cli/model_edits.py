"""``modelregistry models add`` and ``models set``: models written by hand (a file, or fields)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from modelregistry.cli.common import (
    ActorOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    catalog,
    err,
    fail,
    models_app,
    print_json,
)
from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from modelregistry.domain.documents import Format

_CAPABILITY = "supports_"
_NESTED = ("capabilities", "quality_scores", "tags")
_LISTS = ("input_modalities", "output_modalities")


def _document(source: str) -> dict[str, Any]:
    """The models of ``source`` (a path, or ``-`` for stdin) as a catalog mapping."""
    from modelregistry.domain.documents import format_of, parse_text  # noqa: PLC0415 - see cli/common.py

    if source == "-":
        text = sys.stdin.read()
        kind: Format = "json" if text.lstrip().startswith(("{", "[")) else "yaml"
        data = parse_text(text, kind, "<stdin>")
    else:
        path = Path(source)
        data = parse_text(path.read_text(encoding="utf-8"), format_of(path), source)
    if isinstance(data, list):
        return {"models": data}
    if isinstance(data, dict) and "models" not in data:
        return {"models": [data]}  # one model
    return data if isinstance(data, dict) else {"models": data}  # refused with E4005


@models_app.command("add")
def models_add(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="A YAML or JSON file of one model, a list of models or a catalog; - for stdin."
    ),
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
    as_json: bool = JsonOption,
) -> None:
    """Add (or replace) one or more models, all or nothing: every entry is validated first.

    Example: modelregistry models add new-models.yaml
    """
    with catalog(ctx) as registry:
        try:
            document = _document(source)
            result = registry.import_catalog(document, actor=actor, reason=reason)
        except OSError as exc:
            err.print(f"error: cannot read {source}: {exc}")
            raise typer.Exit(1) from exc
        except ModelRegistryError as exc:
            fail(exc)
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(result.summary())


def _value(text: str) -> Any:  # noqa: ANN401 - a JSON scalar or the text itself
    """A field's value: JSON (``8192``, ``true``, ``null``, ``0.15``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _assign(data: dict[str, Any], assignment: str) -> str:
    name, equals, text = assignment.partition("=")
    name = name.strip()
    if not equals or not name:
        msg = f"{assignment!r} is not field=value"
        raise typer.BadParameter(msg, param_hint="'FIELD=VALUE'")
    value = _value(text)
    if name.startswith(_CAPABILITY):
        name = f"capabilities.{name}"
    head, dot, rest = name.partition(".")
    if dot and head == "tags":
        # A tag's value is text as written (tags.tier=1 is "1"); null removes the tag.
        tags = {key: tag for key, tag in data.get(head, {}).items() if key != rest}
        data[head] = tags if value is None else {**tags, rest: text}
    elif dot and head in _NESTED:
        data[head] = {**data.get(head, {}), rest: value}
    elif name in _LISTS and isinstance(value, str):
        data[name] = [item.strip() for item in value.split(",") if item.strip()]
    else:
        data[name] = value
    return name


@models_app.command("set")
def models_set(
    ctx: typer.Context,
    model_id: str = typer.Argument(..., help="The model's id."),
    assignments: list[str] = typer.Argument(
        ...,
        help="field=value: any field (context_window=8192, status=deprecated, "
        "deprecation_date=2027-01-01, successor_model_id=x, supports_vision=true, "
        "quality_scores.coding=0.9, input_modalities=text,image, mode=chat, "
        "release_date=2024-05 (a day or a month), open_weights=true, tags.residency=eu; "
        "null clears a lifecycle or descriptive field, tags.KEY=null removes a tag).",
    ),
    expected_version: int | None = ExpectedVersionOption,
    actor: str | None = ActorOption,
    reason: str | None = ReasonOption,
    as_json: bool = JsonOption,
) -> None:
    """Change fields of a model, in one new version (every rule is checked first).

    Example: modelregistry models set llama3.2:3b deprecation_date=2027-01-01
    successor_model_id=llama3.1:8b
    """
    with catalog(ctx) as registry:
        try:
            current = registry.get_model_or_raise(model_id)
            data = current.model_dump(mode="json")
            assigned = {_assign(data, assignment) for assignment in assignments}
            successor = data.get("successor_model_id")
            if (
                "successor_model_id" in assigned
                and isinstance(successor, str)
                and registry.get_model(successor) is None
            ):
                err.print(f"warning: the successor {successor!r} is not in the catalog")
            stored = registry.register_model(
                data,
                expected_version=current.version if expected_version is None else expected_version,
                actor=actor,
                reason=reason,
            )
        except ModelRegistryError as exc:
            fail(exc)
    if as_json:
        print_json(stored.to_dict())
        return
    typer.echo(f"{stored.model_id}: version {stored.version}")
