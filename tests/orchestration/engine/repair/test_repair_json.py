from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.engine.repair.json_repair import (
    MAX_JSON_DEPTH,
    JsonRepairError,
    _Parser,
    json_loads_strict,
    json_loads_tolerant,
)


def test_valid_json_needs_no_fixes():
    assert json_loads_tolerant('{"city": "Tokyo", "n": [1, 2.5, true, null]}') == (
        {"city": "Tokyo", "n": [1, 2.5, True, None]},
        [],
    )


@pytest.mark.parametrize(
    ("text", "expected", "fix"),
    [
        ("{'city': 'Tokyo'}", {"city": "Tokyo"}, "single-quoted string"),
        ("{'q': 'it\\'s \"fine\"'}", {"q": 'it\'s "fine"'}, "single-quoted string"),
        ('{"a": 1,}', {"a": 1}, "trailing comma"),
        ('{"a": [1, 2,],}', {"a": [1, 2]}, "trailing comma"),
        (
            '{"a": True, "b": False, "c": None}',
            {"a": True, "b": False, "c": None},
            "Python literal",
        ),
        ('{city: "Tokyo", unit_2: "c"}', {"city": "Tokyo", "unit_2": "c"}, "unquoted key 'city'"),
        ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}, "closed an unclosed array"),
        ('{"a": {"b": 1}', {"a": {"b": 1}}, "closed an unclosed object"),
    ],
)
def test_almost_json_is_repaired_and_each_fix_is_named(text, expected, fix):
    value, fixes = json_loads_tolerant(text)
    assert value == expected
    assert any(fix in item for item in fixes), fixes


def test_fixes_say_where_they_were_made():
    _, fixes = json_loads_tolerant("{'a': 'b'}")
    assert fixes == ["single-quoted string at 1", "single-quoted string at 6"]


def test_escapes_and_unicode_survive_repair():
    value, _ = json_loads_tolerant("{'s': 'line\\nnext \\u00e9 \\ud83d\\ude00 \\/'}")
    assert value == {"s": "line\nnext é 😀 /"}


def test_a_lone_surrogate_becomes_a_replacement_character():
    value, _ = json_loads_tolerant("{'s': '\\ud800'}")
    assert value == {"s": "\ufffd"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello world",
        '{"a": 1} and then some prose',
        '{"a" 1}',
        '{"a": 1 "b": 2}',
        '{"a": undefined}',
        '{"a": tr',
        '{"query": "half a sent',
        "{'query': 'half",
        '{"a": }',
        '{"a": NaN}',
        '{"a": Infinity}',
        "{'a': 1e999}",
        '{"a": "\\x41"}',
        '{"a": "\\u12"}',
        "{1: 2}",
        "{,}",
    ],
)
def test_text_too_far_from_json_is_refused_rather_than_guessed(text):
    with pytest.raises(JsonRepairError):
        json_loads_tolerant(text)


def test_nan_and_infinity_are_refused_by_the_strict_reader_too():
    for text in ('{"a": NaN}', '{"a": -Infinity}', '{"a": 1e999}'):
        with pytest.raises(ValueError):
            json_loads_strict(text)


def test_depth_is_bounded_for_valid_and_repaired_json():
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ValueError, match="deeper"):
        json_loads_strict(deep)
    with pytest.raises(JsonRepairError, match="deeper"):
        json_loads_tolerant(deep)
    with pytest.raises(JsonRepairError):
        json_loads_tolerant("[" * 100_000)
    fine = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_loads_tolerant(fine)[1] == []


def test_a_huge_integer_is_refused_not_crashing():
    with pytest.raises(JsonRepairError):
        json_loads_tolerant("{'a': " + "9" * 5000 + "}")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_the_tolerant_parser_reads_what_json_dumps_writes(value):
    text = json.dumps(value)
    assert json_loads_tolerant(text) == (value, [])
    # The repairer itself (not only the strict path) agrees with json on valid JSON.
    assert _Parser(text).parse() == value


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("{}[]'\",:. \n\\truefalsNoTF0123456789-eE")), max_size=80)
)
def test_random_almost_json_only_raises_repair_errors(text):
    try:
        value, fixes = json_loads_tolerant(text)
    except JsonRepairError:
        return
    json.dumps(value, allow_nan=False)
    assert isinstance(fixes, list)
