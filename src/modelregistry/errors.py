"""The exceptions modelregistry raises, each with a stable code.

Codes are part of the API: they are listed in :data:`ERROR_CODES`, pinned by a test and never
reused. Every class is also a builtin exception where one fits, so callers can catch either::

    ModelRegistryError                      (Exception)
    ├── ModelNotFoundError          E4001   (LookupError)       not retryable
    │   └── AliasNotFoundError      E4008   (LookupError)       not retryable
    ├── InvalidModelConfigError     E4003   (ValueError)        not retryable
    ├── ModelVersionNotFoundError   E4004   (LookupError)       not retryable
    ├── InvalidCatalogFileError     E4005   (ValueError)        not retryable
    ├── PriceNotFoundError          E4006   (LookupError)       not retryable
    ├── InvalidArgumentError        E4007   (ValueError)        not retryable
    ├── SchemaOutdatedError         E4010   (RuntimeError)      not retryable
    ├── SchemaUnknownError          E4011   (RuntimeError)      not retryable
    ├── MigrationError              E4012   (RuntimeError)      not retryable
    ├── CatalogWriteError           E4013   (OSError)           not retryable
    ├── DatabaseUnavailableError    E4020   (ConnectionError)   retryable
    ├── DatabaseError               E4021   (RuntimeError)      not retryable
    ├── DatabaseReplacedError       E4022   (RuntimeError)      not retryable (reopen)
    ├── ConcurrentModificationError E4030   (RuntimeError)      not retryable (re-read first)
    ├── SyncRefusedError            E4040   (RuntimeError)      not retryable (--force)
    ├── UpstreamFetchError          E4041   (ConnectionError)   retryable
    ├── UpstreamDocumentError       E4042   (ValueError)        not retryable
    ├── OverrideNotFoundError       E4043   (LookupError)       not retryable
    ├── RouteNotFoundError          E4050   (LookupError)       not retryable (HTTP 404)
    ├── UnauthorizedError           E4051   (PermissionError)   not retryable (HTTP 401)
    ├── RevisionGoneError           E4052   (LookupError)       not retryable (HTTP 410)
    ├── CatalogNotReadyError        E4053   (ConnectionError)   retryable (HTTP 503)
    ├── FeedConfigurationError      E4060   (ValueError)        not retryable
    └── PriceComponentNotFoundError E4090   (LookupError)       not retryable

E4001 and E4003 are the seed's codes; E4002 is left unused because the platform's older
documents may have used it.

E4003 or E4007: the rule is what happens to the value. A value the catalog would store breaks
a rule of the catalog's data, E4003 (:class:`InvalidModelConfigError`): a model config or any
of its fields (the status given to ``update_model_status`` too), a price's amounts and its
``effective_from``, an alias's name, an actor or a reason. An argument that only steers the
call breaks a rule of the call, E4007 (:class:`InvalidArgumentError`): the id a call looks up,
filters and bounds (``provider``, ``status`` and ``statuses`` to match, ``capabilities``,
``min_*``/``max_*``, ``min_quality``), ``order_by``, ``limit``, ``within_days``, the instant a
read is at (``as_of``, ``at``), ``version``, ``expected_version``, the token counts of an
estimate, ``poll_interval``. Both are ``ValueError`` and carry ``violations``, so ``except
ValueError`` catches either.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Any, ClassVar, Final

MAX_SHOWN_CHARACTERS: Final = 200
"""Longest rendering of an offending value (or id) in a message; longer ones are cut."""
MAX_LISTED_PROBLEMS: Final = 100
"""Most problems a message spells out; ``violations`` keeps every one."""

_LARGEST_ECHOED_INT_BITS: Final = 128

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = MAX_SHOWN_CHARACTERS
_SHOWN.maxother = MAX_SHOWN_CHARACTERS
_SHOWN.maxlong = 40
_SHOWN.maxlevel = 3


def shown(value: object) -> str:
    """``repr(value)``, bounded in length and nesting depth.

    Hostile input (a 10 MB string, an integer of 5,000 digits, a list nested 100,000 deep)
    must neither make an error message huge nor fail to render.
    """
    try:
        text = _SHOWN.repr(value)
    except (ValueError, RecursionError):  # int too long for str(), a repr that recurses
        text = f"<{type(value).__name__} too large to show>"
    return cut(text)


def cut(text: str) -> str:
    """``text`` fit for a message: control characters escaped, cut short with ``...``.

    Names taken from input (a field, a model id) are shown this way: a terminal escape
    sequence in a catalog file must not reach the admin's terminal.
    """
    if not text.isprintable():
        text = repr(text[: MAX_SHOWN_CHARACTERS * 2])[1:-1]
    if len(text) <= MAX_SHOWN_CHARACTERS:
        return text
    return text[: MAX_SHOWN_CHARACTERS - 3] + "..."


def _listed(violations: list[Violation]) -> str:
    """The violations, ``; ``-separated, the first :data:`MAX_LISTED_PROBLEMS` of them."""
    details = "; ".join(str(v) for v in violations[:MAX_LISTED_PROBLEMS])
    more = len(violations) - MAX_LISTED_PROBLEMS
    return f"{details}; ... and {more} more" if more > 0 else details


def _echoable(value: object) -> bool:
    """Whether ``value`` goes into JSON as itself: a scalar of modest size."""
    if isinstance(value, str):
        return len(value) <= MAX_SHOWN_CHARACTERS
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= _LARGEST_ECHOED_INT_BITS
    return value is None or isinstance(value, bool | float)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken validation rule.

    Attributes:
        field: Dotted path of the offending field (``quality_scores.coding``); empty when the
            rule concerns the input as a whole.
        rule: What the value must satisfy, in words (``must be an integer > 0``).
        value: The offending input value, when there was one.
    """

    field: str
    rule: str
    value: Any = None

    def __str__(self) -> str:
        """Render as ``field: rule (got value)``."""
        where = f"{cut(self.field)}: " if self.field else ""
        got = "" if self.value is None else f" (got {shown(self.value)})"
        return f"{where}{self.rule}{got}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly mapping of the violation."""
        value = self.value if _echoable(self.value) else shown(self.value)
        return {"field": self.field, "rule": self.rule, "value": value}


class ModelRegistryError(Exception):
    """Base class of every error modelregistry raises.

    Attributes:
        code: Stable error code (class constant), e.g. ``E4001``.
        retryable: Whether retrying the same call later may succeed.
        message: Human-readable description, without the code.
    """

    code: ClassVar[str] = "E4000"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, **context: object) -> None:
        """Create the error with a message and optional JSON-friendly context."""
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        """Render as ``E4001: message``."""
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return ``{code, message, retryable, **context}`` for JSON output and logs."""
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            **self.context,
        }


class ModelNotFoundError(ModelRegistryError, LookupError):
    """E4001: no model with this id exists in the catalog."""

    code = "E4001"

    def __init__(self, model_id: str) -> None:
        """Create the error for the missing ``model_id``."""
        super().__init__(f"model not found: {shown(model_id)}", model_id=model_id)
        self.model_id = model_id


class AliasNotFoundError(ModelNotFoundError):
    """E4008: no alias of this name is set (``remove_alias``).

    A :class:`ModelNotFoundError` too (no model goes by that name), so code catching E4001
    keeps working; its own code tells a missing alias from a missing model.
    """

    code = "E4008"

    def __init__(self, alias: str) -> None:
        """Create the error for the missing ``alias``."""
        ModelRegistryError.__init__(self, f"alias not found: {shown(alias)}", alias=alias)
        self.model_id = alias
        self.alias = alias


class InvalidModelConfigError(ModelRegistryError, ValueError):
    """E4003: data to be stored breaks one or more validation rules; nothing was written.

    A model config or its fields, a price, an alias's name, an actor or a reason; an argument
    that only steers a call is E4007 (:class:`InvalidArgumentError`).

    Attributes:
        violations: Every broken rule, each naming its field.
    """

    code = "E4003"

    def __init__(self, violations: list[Violation], *, model_id: str | None = None) -> None:
        """Create the error from the list of broken rules."""
        subject = f" for {shown(model_id)}" if model_id else ""
        details = _listed(violations)
        super().__init__(
            f"invalid model config{subject}: {details}",
            model_id=model_id,
            violations=[v.to_dict() for v in violations],
        )
        self.violations = violations
        self.model_id = model_id

    @classmethod
    def single(cls, field: str, rule: str, value: object = None) -> InvalidModelConfigError:
        """Build the error for one broken rule."""
        return cls([Violation(field, rule, value)])


class InvalidArgumentError(ModelRegistryError, ValueError):
    """E4007: an argument that steers a call breaks a rule; nothing was written.

    A value that would be stored is E4003 instead (the rule is in :mod:`modelregistry.errors`).

    Attributes:
        violations: Every broken rule, each naming its argument.
    """

    code = "E4007"

    def __init__(self, violations: list[Violation]) -> None:
        """Create the error from the list of broken rules."""
        super().__init__(
            f"invalid argument: {_listed(violations)}",
            violations=[v.to_dict() for v in violations],
        )
        self.violations = violations

    @classmethod
    def single(cls, field: str, rule: str, value: object = None) -> InvalidArgumentError:
        """Build the error for one broken rule of the argument ``field``."""
        return cls([Violation(field, rule, value)])


class ModelVersionNotFoundError(ModelRegistryError, LookupError):
    """E4004: the model exists (or existed) but has no such version."""

    code = "E4004"

    def __init__(self, model_id: str, version: int, latest: int) -> None:
        """Create the error naming the model, the missing version and the newest one."""
        super().__init__(
            f"model {shown(model_id)} has no version {version} (versions 1-{latest})",
            model_id=model_id,
            version=version,
            latest_version=latest,
        )


class PriceNotFoundError(ModelRegistryError, LookupError):
    """E4006: the model has prices, but none in effect at the instant asked about."""

    code = "E4006"

    def __init__(self, model_id: str, at: str, first: str) -> None:
        """Create the error naming the model, the instant and its first price's start."""
        super().__init__(
            f"model {model_id!r} has no price in effect at {at} (its first price starts {first})",
            model_id=model_id,
            at=at,
            first_price_from=first,
        )


class InvalidCatalogFileError(ModelRegistryError, ValueError):
    """E4005: a catalog file (or mapping) cannot be imported; nothing was written.

    Attributes:
        violations: Every problem, each naming where (``models[3](gpt-4o).context_window``).
    """

    code = "E4005"

    def __init__(self, violations: list[Violation], *, source: str) -> None:
        """Create the error listing every problem found in ``source``."""
        details = _listed(violations)
        super().__init__(
            f"invalid catalog {source}: {details}",
            source=source,
            violations=[v.to_dict() for v in violations],
        )
        self.violations = violations


class SchemaOutdatedError(ModelRegistryError, RuntimeError):
    """E4010: the database schema is at an older revision than this version of modelregistry."""

    code = "E4010"

    def __init__(self, current: str, head: str) -> None:
        """Create the error naming the database's revision and the expected one."""
        super().__init__(
            f"the database schema is at revision {current}, this version needs {head}; "
            "run `modelregistry db upgrade` (or open with auto_migrate=True)",
            current_revision=current,
            head_revision=head,
        )


class SchemaUnknownError(ModelRegistryError, RuntimeError):
    """E4011: the database carries a schema revision this version does not know; untouched."""

    code = "E4011"

    def __init__(self, current: str, head: str) -> None:
        """Create the error naming the unknown revision."""
        super().__init__(
            f"the database schema is at revision {current!r}, unknown to this version of "
            f"modelregistry (newest known: {head}); upgrade modelregistry. Nothing was changed",
            current_revision=current,
            head_revision=head,
        )


class MigrationError(ModelRegistryError, RuntimeError):
    """E4012: a schema migration was refused (an unknown or impossible target revision)."""

    code = "E4012"


class CatalogWriteError(ModelRegistryError, OSError):
    """E4013: a catalog file could not be written; nothing was left at the path.

    The directory is missing or unwritable, or the path is a directory.
    """

    code = "E4013"


class DatabaseUnavailableError(ModelRegistryError, ConnectionError):
    """E4020: the database could not be reached; retry later."""

    code = "E4020"
    retryable = True


class DatabaseError(ModelRegistryError, RuntimeError):
    """E4021: the database refused an operation for a reason other than reachability."""

    code = "E4021"


class DatabaseReplacedError(ModelRegistryError, RuntimeError):
    """E4022: the SQLite file was deleted or replaced under this process; writes are refused.

    Writing on would go into a file nobody else opens. Reopen the registry to use the file
    now at the path (restore backups with ``VACUUM INTO`` or the backup API, never a rename
    over a live file).
    """

    code = "E4022"


class ConcurrentModificationError(ModelRegistryError, RuntimeError):
    """E4030: ``expected_version`` differs from the stored version; nothing was written.

    Another writer changed the model since it was read: read it again, re-apply the change and
    write with the new version. Version 0 means the model does not exist.
    """

    code = "E4030"

    def __init__(self, model_id: str, expected: int, actual: int) -> None:
        """Create the error naming both versions."""
        super().__init__(
            f"model {shown(model_id)} is at version {actual}, not the expected version "
            f"{shown(expected)}; "
            "nothing was written",
            model_id=model_id,
            expected_version=expected,
            actual_version=actual,
        )
        self.expected_version = expected
        self.actual_version = actual


class SyncRefusedError(ModelRegistryError, RuntimeError):
    """E4040: a sync's guard refused it (too few valid models); nothing was written.

    Pass ``force=True`` (``--force``) to sync anyway.
    """

    code = "E4040"

    def __init__(self, kind: str, rule: str, *, valid: int, synced: int) -> None:
        """Create the error naming the source, the guard and the counts."""
        super().__init__(
            f"sync {kind} refused: {rule}; nothing was written (--force syncs anyway)",
            kind=kind,
            rule=rule,
            valid_models=valid,
            synced_models=synced,
        )


class UpstreamFetchError(ModelRegistryError, ConnectionError):
    """E4041: the upstream catalog could not be fetched or read (network, HTTP status, size)."""

    code = "E4041"
    retryable = True

    def __init__(self, location: str, problem: str) -> None:
        """Create the error naming the location and what went wrong."""
        super().__init__(
            f"cannot fetch {cut(location)}: {problem}; nothing was written",
            location=location,
            problem=problem,
        )


class UpstreamDocumentError(ModelRegistryError, ValueError):
    """E4042: the upstream document is not in its kind's documented format; nothing written."""

    code = "E4042"

    def __init__(self, kind: str, location: str, problem: str) -> None:
        """Create the error naming the kind, the location and the problem."""
        super().__init__(
            f"{cut(location)} is not a {kind} document: {problem}; nothing was written",
            kind=kind,
            location=location,
            problem=problem,
        )


class OverrideNotFoundError(ModelRegistryError, LookupError):
    """E4043: the model has no synced base (or the field no local override) to reset."""

    code = "E4043"

    def __init__(self, model_id: str, field: str | None = None) -> None:
        """Create the error naming the model (and the field)."""
        what = (
            f"model {shown(model_id)} was never synced from an upstream"
            if field is None
            else f"field {shown(field)} of model {shown(model_id)} is not overridden locally"
        )
        super().__init__(f"{what}; nothing was written", model_id=model_id, field=field)


class RouteNotFoundError(ModelRegistryError, LookupError):
    """E4050: the HTTP server has no such path (``modelregistry serve``)."""

    code = "E4050"


class UnauthorizedError(ModelRegistryError, PermissionError):
    """E4051: the HTTP request has no bearer token, or not the server's."""

    code = "E4051"


class RevisionGoneError(ModelRegistryError, LookupError):
    """E4052: the change stream can no longer replay the changes after this revision.

    Reload the catalog (``GET /api/models``) and follow the stream from its revision.
    """

    code = "E4052"


class CatalogNotReadyError(ModelRegistryError, ConnectionError):
    """E4053: the HTTP server has not loaded the catalog yet: its database was never reached."""

    code = "E4053"
    retryable = True


class FeedConfigurationError(ModelRegistryError, ValueError):
    """E4060: the change feed cannot be used as given (its URL, or the ``nats`` extra missing).

    Raised when the registry opens, before anything is read or written.
    """

    code = "E4060"


class PriceComponentNotFoundError(ModelRegistryError, LookupError):
    """E4090: an estimate needs a rate the model's price does not have, and no fallback applies.

    Only cached input (-> the same service tier's input rate) and reasoning (-> its output
    rate) have fallbacks; anything else a service tier lacks (the tier itself, a context tier,
    a cache write of the lifetime asked) is this error, never another tier's rate.

    Attributes:
        context: ``model_id``, ``service_tier``, ``context_tier`` (the threshold in prompt
            tokens, 0 for the base rates) and ``component`` (``input``, ``cache_write_1h``, ...;
            ``*`` when the whole tier is missing).
    """

    code = "E4090"

    def __init__(self, model_id: str, service_tier: str, context_tier: int, component: str) -> None:
        """Create the error naming the model, the service and context tiers and the component."""
        where = "base rates" if context_tier == 0 else f"context tier above {context_tier} tokens"
        what = "no rates at all" if component == "*" else f"no {component} rate"
        super().__init__(
            f"model {shown(model_id)} has {what} for service tier {service_tier!r} ({where})",
            model_id=model_id,
            service_tier=service_tier,
            context_tier=context_tier,
            component=component,
        )


ERROR_CODES: dict[str, type[ModelRegistryError]] = {
    cls.code: cls
    for cls in (
        ModelNotFoundError,
        InvalidModelConfigError,
        ModelVersionNotFoundError,
        AliasNotFoundError,
        InvalidCatalogFileError,
        PriceNotFoundError,
        InvalidArgumentError,
        SchemaOutdatedError,
        SchemaUnknownError,
        MigrationError,
        CatalogWriteError,
        DatabaseUnavailableError,
        DatabaseError,
        DatabaseReplacedError,
        ConcurrentModificationError,
        SyncRefusedError,
        UpstreamFetchError,
        UpstreamDocumentError,
        OverrideNotFoundError,
        RouteNotFoundError,
        UnauthorizedError,
        RevisionGoneError,
        CatalogNotReadyError,
        FeedConfigurationError,
        PriceComponentNotFoundError,
    )
}
"""Every error code and the class that carries it."""
