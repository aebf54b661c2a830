"""Catalog files (the seed's "external config"): YAML or JSON, read, validated and written.

The format is a mapping with ``schema_version`` (written on export, optional on import) and
``models``: a list whose entries are exactly ModelConfig in its JSON form
(``model_dump(mode="json")``)::

    schema_version: 1
    models:
      - model_id: gpt-4o
        provider: openai
        context_window: 128000
        max_output_tokens: 16384

YAML or JSON is chosen by the file extension (``.yaml``, ``.yml``, ``.json``). Parsing is
safe: YAML is parsed by libyaml with YAML 1.2's core schema for scalars
(:mod:`modelregistry.domain.yaml_core`), aliases and repeated keys are refused (no "billion
laughs"), and
:mod:`modelregistry.service.catalog_files` refuses files over :data:`MAX_FILE_BYTES`. Every
entry is validated before anything is written, and every problem is reported at once. This
module does no I/O: it parses text and renders it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from modelregistry.domain.catalog_state import STATE_KEYS, CatalogState, parse_state
from modelregistry.domain.history import diff_configs
from modelregistry.domain.models import ModelConfig
from modelregistry.errors import (
    InvalidArgumentError,
    InvalidCatalogFileError,
    InvalidModelConfigError,
    Violation,
    cut,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime
    from pathlib import Path

SCHEMA_VERSION: Final = 2
"""The catalog file format this version writes (it reads this one and version 1)."""
READABLE_VERSIONS: Final = (1, 2)
"""The catalog file formats this version reads (version 1: models only)."""
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
"""Largest catalog file accepted."""
FORMATS: Final = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}

Format = Literal["yaml", "json"]


def format_of(path: Path) -> Format:
    """The format of ``path`` by its extension.

    Raises:
        InvalidCatalogFileError: E4005, the extension is not .yaml, .yml or .json.
    """
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidCatalogFileError(
            [Violation("", "the file name must end in .yaml, .yml or .json", path.name)],
            source=str(path),
        )
    return "yaml" if found == "yaml" else "json"


def export_format(format: Format | None, target: Path | None) -> Format:  # noqa: A002 - the option's name
    """The format an export writes: ``format``, else the target file's, else YAML.

    Raises:
        InvalidArgumentError: E4007, ``format`` is not yaml or json.
        InvalidCatalogFileError: E4005, the target's extension names no format.
    """
    kind = format or (format_of(target) if target is not None else "yaml")
    if kind not in {"yaml", "json"}:
        raise InvalidArgumentError.single("format", "must be yaml or json", kind)
    return kind


def parse_text(text: str, kind: Format, source: str) -> object:
    """Parse a catalog file's text (not yet validated: see :func:`parse_catalog`).

    Raises:
        InvalidCatalogFileError: E4005, the text is not valid YAML or JSON, or uses aliases or
            duplicate keys.
    """
    try:
        if kind == "json":
            return json.loads(text, object_pairs_hook=_no_duplicate_keys)
        return _load_yaml(text)
    except (ValueError, RecursionError) as exc:
        detail = str(exc).strip().splitlines()
        raise InvalidCatalogFileError(
            # PyYAML names text it was given as "<unicode string>": name the file instead.
            [
                Violation(
                    "",
                    f"not valid {kind.upper()}: {' '.join(detail)[:300]}".replace(
                        '"<unicode string>"', source
                    ),
                )
            ],
            source=source,
        ) from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            msg = f"duplicate key {key!r}"
            raise ValueError(msg)
        result[key] = value
    return result


def _load_yaml(text: str) -> object:
    from modelregistry.domain import yaml_core  # noqa: PLC0415 - PyYAML only to read a catalog file

    return yaml_core.load(text)


def parse_catalog(data: object, *, source: str = "<mapping>") -> list[ModelConfig]:
    """Validate a catalog mapping (``{"models": [...], "schema_version": 1}``).

    Raises:
        InvalidCatalogFileError: E4005, listing every invalid entry (index, model_id, field,
            rule), duplicate ids and structural problems at once.
    """
    models, skipped = parse_catalog_skipping(data, source=source)
    if skipped:
        raise InvalidCatalogFileError([problem for _, problem in skipped], source=source)
    return models


def parse_catalog_skipping(
    data: object, *, source: str = "<mapping>"
) -> tuple[list[ModelConfig], list[tuple[str, Violation]]]:
    """Validate a catalog mapping; the valid entries, and each invalid one with its problem.

    For ``import --skip-invalid``: an invalid entry (or a repeated id) is left out and listed
    as ``(entry name, problem)``; only a document that is not a catalog is refused.

    Raises:
        InvalidCatalogFileError: E4005, the document's structure is wrong (not a mapping, no
            ``models`` list, an unknown key, another ``schema_version``).
    """
    if not isinstance(data, dict):
        raise InvalidCatalogFileError(
            [Violation("", "must be a mapping with a 'models' list", type(data).__name__)],
            source=source,
        )
    problems: list[Violation] = []
    version = data.get("schema_version", 1)
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        problems.append(Violation("schema_version", "must be 1 or 2", version))
    known = {"models", "schema_version"} | (
        {"exported_at", *STATE_KEYS} if version == SCHEMA_VERSION else set()
    )
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        problems.append(Violation(", ".join(unknown), "is not a known key"))
    entries = data.get("models")
    if not isinstance(entries, list):
        problems.append(Violation("models", "must be a list of models", entries))
        raise InvalidCatalogFileError(problems, source=source)
    if problems:
        raise InvalidCatalogFileError(problems, source=source)
    skipped: list[tuple[str, Violation]] = []
    models: list[ModelConfig] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = _entry_name(index, entry)
        try:
            model = ModelConfig.model_validate(entry)
        except InvalidModelConfigError as exc:
            skipped.extend(
                (where, Violation(f"{where}.{v.field}" if v.field else where, v.rule, v.value))
                for v in exc.violations
            )
            continue
        if model.model_id in first_index:
            rule = f"repeats the model_id of models[{first_index[model.model_id]}]"
            skipped.append((where, Violation(where, rule)))
            continue
        first_index[model.model_id] = index
        models.append(model)
    return models, skipped


def _entry_name(index: int, entry: object) -> str:
    model_id = entry.get("model_id") if isinstance(entry, dict) else None
    return f"models[{index}]({cut(model_id)})" if isinstance(model_id, str) else f"models[{index}]"


def catalog_state(data: object, models: list[ModelConfig], *, source: str) -> CatalogState | None:
    """The state a version-2 document holds beside ``models`` (its valid models); None: v1.

    Entries about models left out (``skip_invalid``) are left out too.

    Raises:
        InvalidCatalogFileError: E4005, listing every problem of the state.
    """
    if not isinstance(data, dict) or data.get("schema_version", 1) != SCHEMA_VERSION:
        return None
    ids = {model.model_id for model in models}
    # Entries of skipped models are dropped, not refused: they name a model of the document.
    named = {str(entry.get("model_id")) for entry in data["models"] if isinstance(entry, dict)}
    try:
        return parse_state(data, named).only(ids)
    except InvalidModelConfigError as exc:
        raise InvalidCatalogFileError(exc.violations, source=source) from exc


def dump_catalog(
    models: Iterable[ModelConfig],
    kind: Format,
    state: CatalogState | None = None,
    exported_at: datetime | None = None,
) -> str:
    """Render ``models`` as a catalog file's text: version 2 with ``state``, else version 1."""
    document: Mapping[str, Any] = {
        "schema_version": 1,
        "models": [model.model_dump(mode="json") for model in models],
    }
    if state is not None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "exported_at": None if exported_at is None else exported_at.isoformat(),
            "models": document["models"],
            **state.to_document(),
        }
    if kind == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    from modelregistry.domain import yaml_core  # noqa: PLC0415 - PyYAML only to write a catalog file

    return yaml_core.dump(dict(document))


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do), by model id, each sorted."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dry_run: bool = False
    changes: dict[str, dict[str, list[object]]] = field(default_factory=dict)
    """Each changed model's fields, ``{model_id: {field: [old, new]}}`` (field paths as in
    ``diff_versions``: ``capabilities.supports_vision``)."""
    invalid: list[dict[str, str]] = field(default_factory=list)
    """With ``skip_invalid``: the entries left out, ``[{"model_id", "reason"}]``."""

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-friendly mapping of the result."""
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "dry_run": self.dry_run,
            "updated": [
                {"model_id": model_id, "fields": fields}
                for model_id, fields in self.changes.items()
            ],
            "invalid": self.invalid,
        }

    def summary(self) -> str:
        """One line: ``added 2, changed 1, unchanged 40, removed 0``."""
        counts = (
            f"added {len(self.added)}, changed {len(self.changed)}, "
            f"unchanged {len(self.unchanged)}, removed {len(self.removed)}"
        )
        return f"{counts} (dry run: nothing written)" if self.dry_run else counts


def plan_import(
    current: Mapping[str, ModelConfig], models: list[ModelConfig], *, prune: bool, dry_run: bool
) -> ImportResult:
    """Sort ``models`` into added, changed and unchanged against ``current``.

    With ``prune``, the models of ``current`` that ``models`` lacks are to be removed.
    """
    result = ImportResult(dry_run=dry_run)
    for model in models:
        existing = current.get(model.model_id)
        if existing is None:
            result.added.append(model.model_id)
        elif existing == model:
            result.unchanged.append(model.model_id)
        else:
            result.changed.append(model.model_id)
            result.changes[model.model_id] = {
                change.field: [change.old, change.new] for change in diff_configs(existing, model)
            }
    if prune:
        result.removed.extend(current.keys() - {model.model_id for model in models})
    for ids in (result.added, result.changed, result.unchanged, result.removed):
        ids.sort()
    ordered = sorted(result.changes.items())
    result.changes.clear()
    result.changes.update(ordered)
    return result
