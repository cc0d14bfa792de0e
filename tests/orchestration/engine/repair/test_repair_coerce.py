from __future__ import annotations

import pytest

from orchestration.engine.repair.coerce import Coercion, coerce_arguments

SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "urgent": {"type": "boolean"},
        "label": {"type": "string"},
        "files": {"type": "array", "items": {"type": "string"}},
        "limits": {"type": "array", "items": {"type": "integer"}},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "maybe": {"type": ["integer", "null"]},
        "either": {"type": ["string", "integer"]},
        "nested": {"type": "object", "properties": {"depth": {"type": "integer"}}},
        "free": {},
    },
}


@pytest.mark.parametrize(
    ("arguments", "expected", "rule"),
    [
        ({"count": "5"}, {"count": 5}, "numeric string to integer"),
        ({"count": " -12 "}, {"count": -12}, "numeric string to integer"),
        ({"ratio": "2.5"}, {"ratio": 2.5}, "numeric string to number"),
        ({"ratio": "7"}, {"ratio": 7}, "numeric string to number"),
        ({"ratio": "1e3"}, {"ratio": 1000.0}, "numeric string to number"),
        ({"urgent": "true"}, {"urgent": True}, "string to boolean"),
        ({"urgent": "False"}, {"urgent": False}, "string to boolean"),
        ({"label": 42}, {"label": "42"}, "number to string"),
        ({"label": 2.5}, {"label": "2.5"}, "number to string"),
        ({"files": "main.py"}, {"files": ["main.py"]}, "single value to one-element array"),
        ({"limits": "3"}, {"limits": [3]}, "single value to one-element array"),
        ({"limits": ["1", 2]}, {"limits": [1, 2]}, "numeric string to integer"),
        ({"maybe": "4"}, {"maybe": 4}, "numeric string to integer"),
        ({"nested": {"depth": "2"}}, {"nested": {"depth": 2}}, "numeric string to integer"),
    ],
)
def test_values_the_schema_allows_are_coerced_and_recorded(arguments, expected, rule):
    result, changes = coerce_arguments(arguments, SCHEMA)
    assert result == expected
    assert rule in {change.rule for change in changes}


def test_each_change_records_where_from_what_and_to_what():
    _, changes = coerce_arguments({"count": "5", "limits": ["1"]}, SCHEMA)
    assert changes == [
        Coercion("$.count", "5", 5, "numeric string to integer"),
        Coercion("$.limits[0]", "1", 1, "numeric string to integer"),
    ]
    assert changes[0].describe() == '$.count: "5" -> 5 (numeric string to integer)'


@pytest.mark.parametrize(
    "arguments",
    [
        {"count": 5},
        {"count": "five"},
        {"count": "5.5"},
        {"count": True},
        {"ratio": "nan"},
        {"ratio": "1e99999"},
        {"ratio": "0x10"},
        {"urgent": "yes"},
        {"urgent": 1},
        {"label": True},
        {"label": None},
        {"files": None},
        {"files": {"a": 1}},
        {"unit": "Celsius"},
        {"either": "5"},
        {"maybe": None},
        {"free": "5"},
        {"unknown_key": "5"},
    ],
)
def test_values_that_fit_or_cannot_be_converted_safely_are_left_alone(arguments):
    result, changes = coerce_arguments(arguments, SCHEMA)
    assert result == arguments
    assert changes == []


def test_the_given_arguments_are_never_modified():
    arguments = {"count": "5", "nested": {"depth": "1"}}
    coerce_arguments(arguments, SCHEMA)
    assert arguments == {"count": "5", "nested": {"depth": "1"}}


def test_schemas_without_types_or_with_odd_shapes_change_nothing():
    for schema in (
        {},
        {"type": "object"},
        {"properties": "oops"},
        {"anyOf": [{"type": "integer"}]},
    ):
        assert coerce_arguments({"count": "5"}, schema) == ({"count": "5"}, [])
