from __future__ import annotations

from orchestration.engine.repair.validate import (
    find_tool,
    unknown_tool_error,
    validate_arguments,
)

from .conftest import weather_tool


def test_arguments_that_fit_the_schema_have_no_errors():
    assert validate_arguments({"city": "Tokyo", "unit": "celsius"}, weather_tool().parameters) == []


def test_errors_name_the_path_and_the_problem():
    errors = validate_arguments({"city": 5, "unit": "kelvin"}, weather_tool().parameters)
    assert errors == [
        "$.city: 5 is not of type 'string'",
        "$.unit: 'kelvin' is not one of ['celsius', 'fahrenheit']",
    ]


def test_a_missing_required_argument_is_an_error_at_the_root():
    assert validate_arguments({}, weather_tool().parameters) == ["$: 'city' is a required property"]


def test_arguments_must_be_an_object():
    assert validate_arguments(["Tokyo"], weather_tool().parameters) == [
        "arguments must be a JSON object, not list"
    ]


def test_draft_2020_12_keywords_are_understood():
    schema = {"type": "object", "properties": {"xs": {"prefixItems": [{"type": "integer"}]}}}
    assert validate_arguments({"xs": ["a"]}, schema) == ["$.xs[0]: 'a' is not of type 'integer'"]


def test_an_invalid_tool_schema_is_reported_not_raised():
    errors = validate_arguments({"a": 1}, {"type": "not-a-type"})
    assert len(errors) == 1
    assert errors[0].startswith("the tool's own schema is invalid")


def test_many_errors_are_capped_and_long_ones_shortened():
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    errors = validate_arguments({f"k{i}": "x" * 1000 for i in range(30)}, schema)
    assert len(errors) == 21
    assert errors[-1] == "... and 10 more errors"
    assert all(len(error) <= 300 for error in errors)


def test_unknown_names_are_answered_with_the_valid_names():
    tools = [weather_tool()]
    assert find_tool("get_weather", tools) is tools[0]
    assert find_tool("get_weather_forecast", tools) is None
    assert unknown_tool_error("get_forecast", tools) == (
        "unknown tool 'get_forecast'; valid tools: get_weather"
    )
    assert unknown_tool_error("x", []) == "unknown tool 'x'; valid tools: (no tools were offered)"
