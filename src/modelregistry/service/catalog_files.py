"""Catalog files on disk: import one (validated, all or nothing), export the catalog as one.

The document format lives in :mod:`modelregistry.domain.documents` (no I/O); this module reads
and writes the files and applies a document to the catalog in one write transaction.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from modelregistry.cache.snapshot import bulk_building
from modelregistry.db import sync_store
from modelregistry.domain import clock
from modelregistry.domain.catalog_state import CatalogState
from modelregistry.domain.documents import (
    MAX_FILE_BYTES,
    catalog_state,
    dump_catalog,
    format_of,
    parse_catalog,
    parse_catalog_skipping,
    parse_text,
    plan_import,
)
from modelregistry.errors import CatalogWriteError, InvalidCatalogFileError, Violation

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelregistry.db.repository import Repository
    from modelregistry.domain.documents import Format, ImportResult
    from modelregistry.domain.models import ModelConfig, ModelStatus
    from modelregistry.service.parts import Parts
    from modelregistry.service.writer import Writer

_ANALYZE_AFTER: Final = 1000
"""Imports that add, change or remove at least this many models refresh the planner's
statistics afterwards (a re-import of a large file that changes little does not)."""

_IMPORT_BATCH: Final = 500
"""Entries an import with a progress callback writes per batch (the progress bar moves
between batches)."""
_UNWATCHED_BATCH: Final = 5000
"""Entries per batch without a progress callback: about ten statements per batch, so a
3,000-model import takes one batch instead of six (on PostgreSQL about 10% less time), while
the rows a batch builds (dicts, JSON documents) stay bounded for a very large catalog."""


def read_catalog_bytes(path: Path) -> bytes:
    """The bytes of the catalog file ``path``: a regular file of at most MAX_FILE_BYTES.

    Anything else (a FIFO, a device, a symlink to ``/dev/zero``, a directory) is refused at
    once, before a byte is read: it is opened without blocking and checked by the opened
    descriptor (so it cannot be swapped in between). Never more than the limit plus one byte
    is read, whatever the file grows to meanwhile.

    Raises:
        InvalidCatalogFileError: E4005, not a regular file, or larger than the limit.
        OSError: the file cannot be opened or read (missing, no permission).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
    except BaseException:
        os.close(descriptor)
        raise
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise InvalidCatalogFileError(
            [Violation("", f"not a regular file ({_file_kind(mode)}): refused unread")],
            source=str(path),
        )
    with os.fdopen(descriptor, "rb") as file:
        content = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise InvalidCatalogFileError(
            [Violation("", f"the file is larger than {MAX_FILE_BYTES} bytes")], source=str(path)
        )
    return content


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_catalog_file(path: Path) -> list[ModelConfig]:
    """Read and validate a catalog file.

    Raises:
        InvalidCatalogFileError: E4005, the file cannot be read or parsed (not a regular
            file, too large), or any entry is invalid (every problem is listed).
    """
    return parse_catalog(_read_document(path), source=str(path))


def _read_document(path: Path) -> object:
    """The parsed document of a catalog file (not yet validated)."""
    kind = format_of(path)
    try:
        text = read_catalog_bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidCatalogFileError(
            [Violation("", f"cannot read the file: {exc}")], source=str(path)
        ) from exc
    return parse_text(text, kind, str(path))


def import_catalog(  # noqa: PLR0913 - keyword-only options
    parts: Parts,
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    prune: bool,
    dry_run: bool,
    actor: str | None,
    reason: str | None,
    progress: Callable[[int, int], None] | None,
    skip_invalid: bool = False,
) -> ImportResult:
    """Validate every entry of ``source``, then apply them all in one transaction.

    With ``skip_invalid``, invalid entries are left out (and listed) instead of refusing all.
    """
    skipped: list[tuple[str, Violation]] = []
    where = "<mapping>" if isinstance(source, Mapping) else str(source)
    with bulk_building():
        data = source if isinstance(source, Mapping) else _read_document(Path(source))
        data = dict(data) if isinstance(data, Mapping) else data
        if skip_invalid:
            models, skipped = parse_catalog_skipping(data, source=where)
        else:
            models = parse_catalog(data, source=where)
        state = catalog_state(data, models, source=where)
    if dry_run:
        current = parts.query(lambda repository: {m.model_id: m for m in repository.list_models()})
        return _with_skipped(plan_import(current, models, prune=prune, dry_run=True), skipped)
    total = len(models)
    with bulk_building(), parts.write(actor, reason) as writer:
        stored = writer.all_models()
        result = plan_import(stored, models, prune=prune, dry_run=False)
        batch = _IMPORT_BATCH if progress is not None else _UNWATCHED_BATCH
        for start in range(0, total, batch):
            writer.write_many(models[start : start + batch], stored)
            if progress is not None:
                progress(min(start + batch, total), total)
        if state is not None:
            _apply_state(writer, state, {model.model_id for model in models})
        for model_id in result.removed:
            writer.remove(model_id)
    if len(result.added) + len(result.changed) + len(result.removed) >= _ANALYZE_AFTER:
        parts.database.refresh_statistics()
    return _with_skipped(result, skipped)


def _apply_state(writer: Writer, state: CatalogState, model_ids: set[str]) -> None:
    """Make the catalog's aliases, timelines and sync rows of ``model_ids`` the document's."""
    writer.restate_prices(state.prices)
    for alias, target in writer.repository.aliases().items():
        if target in model_ids and state.aliases.get(alias) != target:
            writer.remove_alias(alias)
    for alias, target in state.aliases.items():
        writer.set_alias(alias, target)
    sync_store.restore(writer.repository.session, state.sync_bases, state.sync_sources)


def export_catalog(
    parts: Parts,
    *,
    provider: str | None,
    status: ModelStatus | None,
    target: Path | None,
    kind: Format,
) -> str:
    """Render the catalog (or the models of ``provider``/``status``) as a version-2 document.

    Models, aliases, price timelines, sync bases and sources are read in one snapshot. The
    file is written atomically (:func:`write_atomically`): a failed export leaves ``target``
    as it was.
    """

    def read(repository: Repository) -> tuple[list[ModelConfig], CatalogState]:
        models = repository.list_models(provider=provider, status=status)
        ids = {model.model_id for model in models}
        session = repository.session
        state = CatalogState(
            aliases=repository.aliases(),
            prices=repository.price_timelines(sorted(ids)),
            sync_bases=sync_store.base_rows(session, ids),
            sync_sources=sync_store.source_rows(session),
        ).only(ids)
        return models, state

    models, state = parts.query(read, snapshot=True)
    text = dump_catalog(models, kind, state, exported_at=clock.now())
    if target is not None:
        write_atomically(target, text.encode("utf-8"))
    return text


def _with_skipped(result: ImportResult, skipped: list[tuple[str, Violation]]) -> ImportResult:
    """``result`` listing the entries left out by ``skip_invalid``."""
    for where, problem in skipped:
        field = problem.field.removeprefix(where).removeprefix(".")
        reason = f"{field}: {problem.rule}" if field else problem.rule
        result.invalid.append({"model_id": where, "reason": reason})
    return result


def write_atomically(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` by a temporary file and a rename.

    Raises:
        CatalogWriteError: E4013, the directory is missing or unwritable, or ``target`` is a
            directory; the temporary file is removed.
    """
    if target.is_dir():
        raise CatalogWriteError(f"cannot write {target}: it is a directory", path=str(target))
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file 0600; an export is as readable as any file the user writes.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # noqa: PTH101 - a str path from mkstemp
        os.replace(temporary, target)  # noqa: PTH105 - a str path from mkstemp
        temporary = None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CatalogWriteError(f"cannot write {target}: {reason}", path=str(target)) from exc
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)  # noqa: PTH108 - a str path from mkstemp
