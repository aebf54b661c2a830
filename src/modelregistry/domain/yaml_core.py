"""YAML catalog text to Python values: libyaml's parser, YAML 1.2's core schema for scalars.

PyYAML resolves plain scalars by YAML 1.1's rules, where ``yes``/``on`` are booleans,
``1_000`` and ``0b11`` integers, ``017`` octal and ``1e-11`` a *string*. A catalog file
follows YAML 1.2's core schema instead (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
``true``/``false`` (three spellings each) are the only booleans, ``null``/``~``/empty the only
nulls, integers are decimal, ``0o`` octal or ``0x`` hex, and floats include exponents without
a dot. Dates (``2027-01-01``) still read as dates, as YAML 1.1 would: the catalog's dates are
written that way.

libyaml (``yaml.CParser``) scans, parses and composes the node graph in C; the nodes are then
turned into values here in one pass, which refuses what a catalog file must never contain:

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
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

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
