"""YAML catalog text to Python values: libyaml's parser, YAML 1.2's core schema for scalars.

PyYAML resolves plain scalars by YAML 1.1's rules, where ``yes``/``on`` are booleans,
``1_000`` and ``0b11`` integers, ``017`` octal and ``1e-11`` a *string*. A catalog file
follows YAML 1.2's core schema instead (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
``true``/``false`` (three spellings each) are the only booleans, ``null``/``~``/empty the only
nulls, integers are decimal, ``0o`` octal or ``0x`` hex, and floats include exponents without
a dot. Dates (``2027-01-01``) still read as dates, as YAML 1.1 would: the catalog's dates are
written that way.

Two passes, the first usually the only one. The event pass builds the values straight from
libyaml's parser events (``yaml.CParser.get_event``: no node graph, no resolver call per
node), for plain content only: untagged scalars, mappings and sequences, distinct scalar
keys, shallow nesting. Anything else makes it give up, and the node pass reads the text
again: libyaml scans, parses and composes the node graph in C, and the nodes are turned into
values here in one pass, which refuses what a catalog file must never contain:

- an alias (``*name``): a node met twice is one (no "billion laughs", no cycles);
- a key repeated in a mapping;
- a key that cannot be a key (a list or a mapping);
- a tag the safe loader does not know (``!!python/...``).

Nesting deeper than libyaml's limit (1,000), or than Python's recursion limit, is refused.
Every refusal is a :class:`ValueError` naming the problem.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Final

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

if TYPE_CHECKING:
    from collections.abc import Callable

_STR: Final = "tag:yaml.org,2002:str"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_BOOL: Final = "tag:yaml.org,2002:bool"
_NULL: Final = "tag:yaml.org,2002:null"
_TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_SEQ: Final = "tag:yaml.org,2002:seq"
_MAP: Final = "tag:yaml.org,2002:map"

_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLEANS: Final = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
_NOT_A_STRING_START: Final = frozenset("0123456789+-.")
"""The first characters of a plain scalar that may be a number or a date."""
_INTEGER: Final = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_NUMBER: Final = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_DATE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
    r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?"
)

_PATTERNS: Final = ((_INTEGER, _INT), (_NUMBER, _FLOAT), (_DATE, _TIMESTAMP))


def plain_scalar_tag(value: str) -> str:
    """The core-schema tag of an untagged plain scalar (dates: the timestamp tag)."""
    if value in _NULLS:
        return _NULL
    if value in _BOOLEANS:
        return _BOOL
    if value[0] in _NOT_A_STRING_START:
        for pattern, tag in _PATTERNS:
            if pattern.fullmatch(value):
                return tag
    return _STR


class _CoreResolver(yaml.resolver.BaseResolver):
    """Tags untagged nodes by the core schema (called by libyaml for each node it composes)."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: ANN401 - PyYAML's signature
        if kind is ScalarNode:
            return plain_scalar_tag(value) if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


class _PurePythonParser(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer
):
    """PyYAML's own parser and composer, for a PyYAML built without libyaml."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)


try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Parser = _PurePythonParser  # type: ignore[assignment,misc]


class _Loader(_Parser, yaml.constructor.SafeConstructor, _CoreResolver):
    """libyaml's parser and composer; the safe constructor only for tags met rarely."""

    def __init__(self, text: str) -> None:
        _Parser.__init__(self, text)
        yaml.constructor.SafeConstructor.__init__(self)
        _CoreResolver.__init__(self)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The safe dumper (libyaml's emitter), quoting strings YAML 1.2 would not read back."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: ANN401 - PyYAML's signature
        tag: str = super().resolve(kind, value, implicit)
        if kind is ScalarNode and implicit[0] and tag == _STR:
            return plain_scalar_tag(value)
        return tag


def dump(document: object) -> str:
    """``document`` as YAML text that reads back the same by both YAML 1.1 and 1.2 rules.

    A string that either schema would read as something else (``yes``, ``0o17``, ``1e-11``)
    is quoted.
    """
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text


def load(text: str) -> object:
    """The value of the single YAML document in ``text`` (None for an empty one).

    Raises:
        ValueError: the text is not YAML, or holds an alias, a repeated or unusable key, or
            an unknown tag.
    """
    if _EVENTS:
        try:
            return _Events(text).document()
        except _Unusual:
            pass  # the node pass below builds it, or refuses it with its reason
        except (yaml.YAMLError, ValueError, TypeError, AttributeError):
            pass  # ditto: the same text fails there too, and says why in the usual words
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Values(loader).value(node)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
    except RecursionError as exc:  # composing or building nodes nested near libyaml's limit
        msg = "exceeded the maximum nesting depth"
        raise ValueError(msg) from exc
    finally:
        loader.dispose()


_EVENTS: Final[bool] = bool(getattr(yaml, "__with_libyaml__", False))
"""Whether the event pass runs first (libyaml's parser: its events are built in C)."""


class _Unusual(Exception):  # noqa: N818 - not an error: a signal to take the node pass
    """Content the event pass leaves to the node pass (a tag, an alias, a repeated key, ...)."""


_NO_KEY: Final = object()
_EVENT_DEPTH: Final = 64
"""Deeper nesting is left to the node pass (a catalog nests 3 deep; the limits are there)."""
_TIMESTAMPS: Final = yaml.constructor.SafeConstructor()


def _timestamp(text: str) -> object:
    return _TIMESTAMPS.construct_yaml_timestamp(ScalarNode(_TIMESTAMP, text))


class _Events:
    """The fast pass: values straight from libyaml's events, no node graph, no resolver calls.

    It builds only plain content: untagged scalars, mappings and sequences, with distinct
    scalar keys, nested at most ``_EVENT_DEPTH`` deep. Anything else (an explicit tag, an
    alias, a repeated or unusable key, a second document, deeper nesting, a parser error)
    raises :class:`_Unusual` or the parser's error, and :func:`load` runs the node pass,
    which builds it or refuses it with its reason: every refusal is the node pass's, and the
    two passes give the same values.
    """

    def __init__(self, text: str) -> None:
        self._text = text

    def document(self) -> object:
        parser = _Parser(self._text)
        try:
            return self._build(parser.get_event)
        finally:
            parser.dispose()

    def _build(self, get: Any) -> object:  # noqa: ANN401, C901, PLR0912, PLR0915 - one loop over libyaml's events, for speed
        if type(get()) is not yaml.StreamStartEvent:
            raise _Unusual
        event = get()
        if type(event) is yaml.StreamEndEvent:
            return None
        if type(event) is not yaml.DocumentStartEvent:
            raise _Unusual
        root: object = None
        # The mapping or sequence being built and, in a mapping, the key waiting for its
        # value (or _NO_KEY); the enclosing ones' pairs are on the stack, innermost last.
        parent: Any = None
        key: object = _NO_KEY
        stack: list[tuple[Any, object]] = []
        convert = _CONVERT
        tag_of = plain_scalar_tag
        # Each distinct plain scalar is resolved once (a catalog repeats its keys, ``null``,
        # ``true``, its statuses in every entry); its values are immutable, so one is shared.
        known: dict[str, object] = {}
        scalar, mapping_start, sequence_start = (
            yaml.ScalarEvent,
            yaml.MappingStartEvent,
            yaml.SequenceStartEvent,
        )
        mapping_end, sequence_end, document_end = (
            yaml.MappingEndEvent,
            yaml.SequenceEndEvent,
            yaml.DocumentEndEvent,
        )
        no_key = _NO_KEY
        while True:
            event = get()
            kind = type(event)
            value: object
            if kind is scalar:
                if event.tag is not None:
                    raise _Unusual
                text: str = event.value
                if event.implicit[0]:
                    value = known.get(text, no_key)
                    if value is no_key:
                        value = known[text] = convert[tag_of(text)](text)
                else:
                    value = text
            elif kind is mapping_start or kind is sequence_start:
                if event.tag is not None:
                    raise _Unusual
                if len(stack) == _EVENT_DEPTH:
                    raise _Unusual
                stack.append((parent, key))
                parent = {} if kind is mapping_start else []
                key = no_key
                continue
            elif kind is mapping_end or kind is sequence_end:
                value = parent
                parent, key = stack.pop()
            elif kind is document_end:
                break
            else:  # an alias
                raise _Unusual
            if parent is None:
                root = value
                continue
            if type(parent) is list:
                parent.append(value)
            elif key is no_key:
                if type(value) is dict or type(value) is list or value in parent:
                    raise _Unusual
                key = value
            else:
                parent[key] = value
                key = no_key
        if type(get()) is not yaml.StreamEndEvent:
            raise _Unusual  # a second document
        return root


class _Values:
    """One pass over the node graph, building values and refusing what a catalog must not hold."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self._seen: set[int] = set()

    def value(self, node: yaml.Node) -> object:  # noqa: PLR0911 - one branch per tag
        if id(node) in self._seen:
            msg = "YAML aliases (*name) are not allowed in a catalog file"
            raise ValueError(msg)
        self._seen.add(id(node))
        tag = node.tag
        if tag == _STR:
            text: str = node.value
            return text
        if tag == _MAP and isinstance(node, MappingNode):
            return self._mapping(node)
        if tag == _SEQ and isinstance(node, SequenceNode):
            return [self.value(item) for item in node.value]
        if tag == _INT:
            return _integer(node.value)
        if tag == _FLOAT:
            return _float(node.value)
        if tag == _BOOL and node.value in _BOOLEANS:
            return _BOOLEANS[node.value]
        if tag == _NULL and node.value in _NULLS:
            return None
        # Rare tags (a date, !!binary, !!set, ...): check the subtree, then PyYAML's safe
        # constructor builds it (and refuses a tag it does not know).
        self._check_subtree(node)
        return self._loader.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode) -> dict[object, object]:
        result: dict[object, object] = {}
        seen = self._seen
        value = self.value
        for key_node, value_node in node.value:
            if key_node.tag == _STR and id(key_node) not in seen:  # most keys: inline
                seen.add(id(key_node))
                key: object = key_node.value
            else:
                key = value(key_node)
            try:
                repeated = key in result
            except TypeError as exc:
                msg = f"a {type(key).__name__} cannot be a mapping key"
                raise ValueError(msg) from exc
            if repeated:
                msg = f"duplicate key {key!r}"
                raise ValueError(msg)
            result[key] = value(value_node)
        return result

    def _check_subtree(self, node: yaml.Node) -> None:
        stack = [node.value] if isinstance(node, SequenceNode | MappingNode) else []
        while stack:
            for child in stack.pop():
                for item in child if isinstance(child, tuple) else (child,):
                    if id(item) in self._seen:
                        msg = "YAML aliases (*name) are not allowed in a catalog file"
                        raise ValueError(msg)
                    self._seen.add(id(item))
                    if isinstance(item, SequenceNode | MappingNode):
                        stack.append(item.value)


def _integer(text: str) -> int:
    # Base 0 reads the 0o and 0x prefixes; a decimal with leading zeros needs base 10.
    return int(text, 0) if text.startswith(("0o", "0x")) else int(text, 10)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


_CONVERT: Final[dict[str, Callable[[str], object]]] = {
    _STR: str,
    _INT: _integer,
    _FLOAT: _float,
    _BOOL: _BOOLEANS.__getitem__,
    _NULL: lambda _text: None,
    _TIMESTAMP: _timestamp,
}
"""The value of an untagged plain scalar, by its core-schema tag (the event pass)."""
