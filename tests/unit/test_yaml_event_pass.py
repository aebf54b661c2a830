"""The YAML event pass (values straight from libyaml's events) against the node pass.

The event pass builds plain content only and hands anything else to the node pass; these
tests hold it to the node pass's values, and its refusals to the node pass's words.
"""

from __future__ import annotations

import math

import pytest
import yaml

from modelregistry.domain import yaml_core

# ruff: noqa: SLF001 - these tests compare the two private passes of yaml_core.load

pytestmark = pytest.mark.skipif(not yaml_core._EVENTS, reason="PyYAML without libyaml")


def _node_pass(text: str) -> object:
    loader = yaml_core._Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else yaml_core._Values(loader).value(node)
    finally:
        loader.dispose()


PLAIN = {
    "empty": "",
    "comment only": "# nothing\n",
    "null document": "~\n",
    "scalars": (
        "a: text\nb: 12\nc: -0o17\nd: 0x1F\ne: 1.5\nf: 1e-11\ng: .inf\nh: -.INF\n"
        "i: true\nj: FALSE\nk: null\nl: ~\nm:\nn: yes\no: 017\np: 1_000\nq: '12'\n"
        'r: "true"\ns: +3\nt: .5\nu: 2027-01-01\nv: 2027-01-01T10:20:30Z\nw: 0b11\n'
    ),
    "nesting": "models:\n- id: a\n  tags: {x: [1, {y: z}], w: []}\n  caps: {}\n- [1, [2, [3]]]\n",
    "non-string keys": "1: a\n2.5: b\nfalse: c\nnull: d\n2027-01-01: e\n",
    "block scalars": "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    "a top-level list": "- 1\n- two\n- {three: 3}\n",
    "anchors without aliases": "a: &first 1\nb: &second [2]\n",
    "unicode": "name: \u00e9t\u00e9 \U0001f600\n",
    # Each distinct plain scalar is resolved once and its value shared: a repeat, quoted or
    # not, as a key or a value, reads as the first did (a quoted one stays a string).
    "repeated scalars": (
        "- {a: 12, b: '12', c: true, d: 'true', e: 2027-01-01, f: null, g: 1.5}\n"
        "- {a: 12, b: '12', c: true, d: 'true', e: 2027-01-01, f: null, g: 1.5}\n"
        "- [12, '12', true, 'true', 2027-01-01, null, 1.5, a, 'a']\n"
        "- {12: x, '12': y, 2027-01-01: z}\n"
    ),
}


@pytest.mark.parametrize("text", PLAIN.values(), ids=PLAIN.keys())
def test_the_event_pass_builds_plain_documents_as_the_node_pass_does(text: str) -> None:
    built = yaml_core._Events(text).document()
    assert built == _node_pass(text)
    assert yaml_core.load(text) == built


def test_nan_reads_as_nan_in_both_passes() -> None:
    value = yaml_core._Events("a: .nan\n").document()
    assert isinstance(value, dict)
    assert math.isnan(value["a"])


def test_two_nan_keys_in_one_mapping_are_a_repeated_key_in_both_passes() -> None:
    # ``.nan`` reads as the one math.nan (shared, as every repeated scalar's value is): the
    # event pass leaves the mapping to the node pass, which refuses it as it always has.
    with pytest.raises(ValueError, match="duplicate key nan"):
        yaml_core.load("{.nan: 1, .nan: 2}\n")
    with pytest.raises(yaml_core._Unusual):
        yaml_core._Events("{.nan: 1, .nan: 2}\n").document()


UNUSUAL = {
    "alias": "a: &x [1]\nb: *x\n",
    "explicit tag": "a: !!str 12\n",
    "unknown tag": "a: !!python/object:os.system x\n",
    "non-specific tag": "a: ! 12\n",
    "tagged mapping": "a: !!map {b: 1}\n",
    "repeated key": "a: 1\na: 2\n",
    "repeated key after a flow": "{a: 1, b: 2, a: 3}\n",
    "a list as a key": "? [1, 2]\n: x\n",
    "a mapping as a key": "? {a: 1}\n: x\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "deeper than the event pass goes": "a: " + "[" * 100 + "]" * 100 + "\n",
    "not YAML": "a: [1, 2\n",
    "an integer too long for int()": "a: " + "9" * 5000 + "\n",
    "a date that is not one": "a: 2027-13-45\n",
}


def _outcome(text: str) -> tuple[str, object]:
    try:
        return "value", yaml_core.load(text)
    except ValueError as exc:
        return "refused", str(exc)


@pytest.mark.parametrize("text", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_anything_else_is_left_to_the_node_pass(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises((yaml_core._Unusual, yaml.YAMLError, ValueError, AttributeError)):
        yaml_core._Events(text).document()
    with_events = _outcome(text)
    monkeypatch.setattr(yaml_core, "_EVENTS", False)
    assert with_events == _outcome(text)


def test_a_repeated_key_is_refused_in_the_node_passs_words() -> None:
    with pytest.raises(ValueError, match="duplicate key 'a'"):
        yaml_core.load("a: 1\nb: 2\na: 3\n")


def test_an_alias_is_refused_in_the_node_passs_words() -> None:
    with pytest.raises(ValueError, match="aliases"):
        yaml_core.load("a: &x [1]\nb: *x\n")
