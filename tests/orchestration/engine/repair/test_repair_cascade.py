from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.engine.conditions import condition_parse
from orchestration.engine.repair import repair_reply
from orchestration.engine.repair.cascade import (
    LENGTH_ERROR,
    MAX_CALLS,
    MAX_TEXT_LENGTH,
    TOO_MANY_CALLS,
)
from orchestration.engine.repair.results import (
    COERCE_TYPES,
    DISTRUST_LENGTH,
    DROPPED_CALL,
    EXTRACT_BARE_JSON,
    EXTRACT_FENCED_JSON,
    EXTRACT_FUNCTIONGEMMA,
    EXTRACT_TOOL_CALL_TAGS,
    JSON_REPAIR,
    NATIVE,
    UNWRAP_ARGUMENTS,
    VALIDATE,
)
from orchestration.engine.types import ChatMessage, ToolCallPart

from .conftest import REPLIES, add_tool, consult_tool, weather_tool

TOOLS = [weather_tool(), add_tool(), consult_tool()]
TOKYO = {"city": "Tokyo"}


def repair(content: str = "", calls=(), done_reason: str = "stop", tools=TOOLS):
    message = ChatMessage(role="assistant", content=content, tool_calls=tuple(calls))
    result = repair_reply(message=message, tools=tools, done_reason=done_reason)
    json.dumps(result.to_dict(), allow_nan=False)  # every result must be storable as JSON
    return result


def stages(result) -> list[str]:
    return [record.stage for record in result.trail]


# --- the recorded replies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("tool_call_as_text_qwen", EXTRACT_TOOL_CALL_TAGS),
        ("tool_call_as_text_qwen_missing_open_tag", EXTRACT_TOOL_CALL_TAGS),
        ("tool_call_as_text_qwen_json_fence", EXTRACT_FENCED_JSON),
        ("tool_call_as_text_qwen_coder_bare_json", EXTRACT_BARE_JSON),
    ],
)
def test_recorded_calls_written_as_text_become_valid_calls(recorded, key, source):
    message, done_reason = recorded(key)
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert [(c.name, c.arguments) for c in result.calls] == [("get_weather", TOKYO)]
    assert result.found[0].source == source
    assert stages(result) == [source, VALIDATE]
    assert not result.is_answer and not result.unclear_tool_calls and result.repaired


def test_the_recorded_functiongemma_text_becomes_the_call_ollama_would_make():
    result = repair(REPLIES["functiongemma_raw_model_text"])
    expected = REPLIES["functiongemma_tool_call"]["message"]["tool_calls"][0]["function"]
    assert [(c.name, c.arguments) for c in result.calls] == [
        (expected["name"], expected["arguments"])
    ]
    assert stages(result) == [EXTRACT_FUNCTIONGEMMA, VALIDATE]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("chat_tool_call", [("call_k3n9x2pq", "get_weather", TOKYO)]),
        ("functiongemma_tool_call", [("call_p4t7w0bn", "get_weather", TOKYO)]),
        (
            "chat_tool_call_parallel",
            [
                ("call_0f7wq2ma", "get_weather", TOKYO),
                ("call_y81dkz4c", "get_weather", {"unit": "celsius", "city": "Osaka"}),
            ],
        ),
    ],
)
def test_recorded_native_calls_pass_as_they_are(recorded, key, expected):
    message, done_reason = recorded(key)
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert [(c.id, c.name, c.arguments) for c in result.calls] == expected
    assert stages(result) == [NATIVE] + [VALIDATE] * len(expected)
    assert not result.repaired


def test_a_recorded_legacy_call_without_an_id_gets_a_stable_one(recorded):
    message, _ = recorded("chat_tool_call_legacy_v0_3_to_v0_4_6")
    first = repair_reply(message=message, tools=TOOLS, done_reason="stop")
    again = repair_reply(message=message, tools=TOOLS, done_reason="stop")
    assert first.calls[0].id.startswith("call_")
    assert first.calls[0].id == again.calls[0].id


def test_recorded_wrong_argument_types_are_coerced_and_recorded(recorded):
    message, done_reason = recorded("tool_call_wrong_arg_types")
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert result.calls == (ToolCallPart("call_9hq3m0td", "add_two_numbers", {"a": 5, "b": 10}),)
    coercion = result.trail[1]
    assert coercion.stage == COERCE_TYPES
    assert (coercion.before, coercion.after) == ({"a": "5", "b": 10}, {"a": 5, "b": 10})
    assert coercion.note == '$.a: "5" -> 5 (numeric string to integer)'
    assert coercion.call == 0


def test_the_recorded_empty_reply_is_a_dropped_call(recorded):
    message, done_reason = recorded("tool_call_silently_dropped_empty")
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert result.dropped_call and result.unclear_tool_calls
    assert not result.is_answer and not result.calls and not result.distrusted
    assert stages(result) == [DROPPED_CALL]


def test_the_recorded_truncated_reply_is_distrusted_not_dropped(recorded):
    message, done_reason = recorded("tool_call_truncated_length")
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert result.distrusted and result.unclear_tool_calls
    assert not result.dropped_call and not result.calls and not result.is_answer
    assert stages(result) == [DISTRUST_LENGTH]


@pytest.mark.parametrize("key", ["chat_plain", "functiongemma_text_answer"])
def test_recorded_prose_answers_are_answers(recorded, key):
    message, done_reason = recorded(key)
    result = repair_reply(message=message, tools=TOOLS, done_reason=done_reason)
    assert result.is_answer and result.text == message.content
    assert not result.found and not result.unclear_tool_calls and result.trail == ()


# --- native calls -------------------------------------------------------------------------


def test_a_native_call_to_an_unknown_tool_is_invalid_and_lists_the_valid_names():
    result = repair(calls=[ToolCallPart("c1", "get_forecast", TOKYO)])
    assert result.calls == ()
    (invalid,) = result.invalid_calls
    assert invalid.errors == (
        "unknown tool 'get_forecast'; valid tools: get_weather, add_two_numbers, "
        "consult_coding_specialist",
    )
    assert result.unclear_tool_calls


def test_a_native_call_whose_arguments_cannot_be_made_valid_keeps_its_errors():
    result = repair(calls=[ToolCallPart("c1", "add_two_numbers", {"a": "five"})])
    (invalid,) = result.invalid_calls
    assert invalid.arguments == {"a": "five"}
    assert invalid.errors == (
        "$: 'b' is a required property",
        "$.a: 'five' is not of type 'integer'",
    )
    assert result.trail[-1].after == {"valid": False, "errors": list(invalid.errors)}


def test_valid_and_invalid_native_calls_are_told_apart():
    result = repair(
        calls=[ToolCallPart("c1", "get_weather", TOKYO), ToolCallPart("c2", "nope", {})]
    )
    assert [c.id for c in result.calls] == ["c1"]
    assert [c.id for c in result.invalid_calls] == ["c2"]


def test_native_arguments_given_as_a_json_string_are_decoded():
    result = repair(calls=[ToolCallPart("c1", "get_weather", "{'city': 'Tokyo',}")])  # type: ignore[arg-type]
    assert result.calls[0].arguments == TOKYO
    record = result.trail[1]
    assert record.stage == JSON_REPAIR
    assert "arguments given as a JSON string" in record.note


def test_prose_beside_native_calls_is_kept_and_never_extracted():
    text = 'I will check. Example: <tool_call>{"name": "add_two_numbers"}</tool_call>'
    result = repair(text, calls=[ToolCallPart("c1", "get_weather", TOKYO)])
    assert [c.name for c in result.found] == ["get_weather"]
    assert result.text == text and not result.is_answer


def test_too_deeply_nested_native_arguments_are_refused_and_not_kept():
    deep: dict = {}
    for _ in range(200):
        deep = {"a": deep}
    result = repair(calls=[ToolCallPart("c1", "get_weather", deep)])
    (invalid,) = result.invalid_calls
    assert "nested deeper" in invalid.errors[0]
    assert invalid.arguments == "(not kept: nested too deeply)"


# --- calls written as text ----------------------------------------------------------------


def test_several_tagged_calls_are_all_found_in_order():
    text = (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "add_two_numbers", "arguments": {"a": 1, "b": 2}}\n</tool_call>'
    )
    result = repair(text)
    assert [(c.name, c.arguments) for c in result.calls] == [
        ("get_weather", TOKYO),
        ("add_two_numbers", {"a": 1, "b": 2}),
    ]
    assert len({c.id for c in result.calls}) == 2
    assert [record.call for record in result.trail] == [None, 0, 1]


def test_a_tagged_call_to_an_unknown_tool_is_an_invalid_call_not_prose():
    result = repair('<tool_call>{"name": "get_forecast", "arguments": {}}</tool_call>')
    assert not result.is_answer
    assert result.invalid_calls[0].name == "get_forecast"
    assert "valid tools: get_weather" in result.invalid_calls[0].errors[0]


def test_almost_json_inside_tags_is_repaired_and_the_repair_recorded():
    result = repair(
        "<tool_call>{'name': 'get_weather', arguments: {'city': 'Tokyo',},}</tool_call>"
    )
    assert result.calls[0].arguments == TOKYO
    repair_record = result.trail[1]
    assert repair_record.stage == JSON_REPAIR
    assert "single-quoted string" in repair_record.note
    assert "unquoted key 'arguments'" in repair_record.note
    assert "trailing comma" in repair_record.note


def test_a_tagged_call_whose_json_cannot_be_repaired_is_invalid_with_its_name():
    result = repair('<tool_call>{"name": "get_weather", "arguments": {"city" "Tokyo"}}</tool_call>')
    (invalid,) = result.invalid_calls
    assert invalid.name == "get_weather"
    assert invalid.errors[0].startswith("the call is not valid JSON")
    assert invalid.arguments == '{"name": "get_weather", "arguments": {"city" "Tokyo"}}'


def test_a_call_cut_off_inside_a_string_is_not_completed_by_guesswork():
    result = repair('{"name": "get_weather", "arguments": {"city": "Tok')
    (invalid,) = result.invalid_calls
    assert invalid.name == "get_weather"
    assert "unterminated string" in invalid.errors[0]


def test_an_unclosed_tagged_call_is_repaired_but_marked_invalid():
    result = repair('<tool_call>{"name": "get_weather", "arguments": {"city": "Tokyo"')
    (invalid,) = result.invalid_calls
    assert invalid.arguments == TOKYO
    assert "never closed" in invalid.errors[0]


def test_an_unclosed_functiongemma_call_is_invalid():
    result = repair("<start_function_call>call:get_weather{city:<escape>Tok")
    assert result.calls == ()
    (invalid,) = result.invalid_calls
    assert invalid.name == "get_weather"
    assert invalid.errors == (
        "the call was never closed (<end_function_call> missing)",
        "not in the form call:NAME{key:value,...}",
    )


def test_functiongemma_values_are_coerced_to_the_schema():
    result = repair(
        "<start_function_call>call:add_two_numbers{a:<escape>5<escape>,b:7}<end_function_call>"
    )
    assert result.calls[0].arguments == {"a": 5, "b": 7}


@pytest.mark.parametrize(
    ("call_json", "note"),
    [
        ('{"name": "get_weather", "parameters": {"city": "Tokyo"}}', "under 'parameters'"),
        ('{"name": "get_weather", "arguments": "{\\"city\\": \\"Tokyo\\"}"}', "as a JSON string"),
        (
            '{"type": "function", "function": '
            '{"name": "get_weather", "arguments": {"city": "Tokyo"}}}',
            "OpenAI-style",
        ),
    ],
)
def test_arguments_in_other_shapes_are_unwrapped_and_recorded(call_json, note):
    result = repair(f"<tool_call>{call_json}</tool_call>")
    assert result.calls[0].arguments == TOKYO
    unwrap = next(r for r in result.trail if r.stage == UNWRAP_ARGUMENTS)
    assert note in unwrap.note


def test_a_call_without_arguments_gets_empty_arguments():
    tools = [*TOOLS, type(TOOLS[0])("get_time", "now", {"type": "object", "properties": {}})]
    result = repair('<tool_call>{"name": "get_time"}</tool_call>', tools=tools)
    assert result.calls[0].arguments == {}


def test_flattened_arguments_are_offered_for_repair_but_not_run():
    result = repair('<tool_call>{"name": "get_weather", "city": "Tokyo"}</tool_call>')
    (invalid,) = result.invalid_calls
    assert invalid.arguments == TOKYO
    assert "arguments must be under 'arguments'" in invalid.errors[0]


def test_a_bare_json_array_of_calls_is_several_calls():
    text = json.dumps(
        [
            {"name": "get_weather", "arguments": TOKYO},
            {"name": "add_two_numbers", "arguments": {"a": 1, "b": 2}},
        ]
    )
    assert [c.name for c in repair(text).calls] == ["get_weather", "add_two_numbers"]


def test_text_extraction_coerces_like_native_calls():
    result = repair(
        '{"name": "consult_coding_specialist", "arguments": '
        '{"query": "q", "files": "a.py", "urgent": "true", "priority": "2"}}'
    )
    assert result.calls[0].arguments == {
        "query": "q",
        "files": ["a.py"],
        "urgent": True,
        "priority": 2,
    }


# --- prose stays prose --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'To call it, send {"name": "get_weather", "arguments": {"city": "Tokyo"}} to the API.',
        'Example:\n```json\n{"name": "get_weather", "arguments": {"city": "Tokyo"}}\n```\nDone.',
        '{"name": "Alice", "age": 30}',
        '```json\n{"name": "search_web", "arguments": {"q": "x"}}\n```',
        '[{"name": "get_weather", "arguments": {}}, {"name": "Alice"}]',
        '{"answer": "Tokyo is sunny"}',
        "[1, 2, 3]",
        "{not json at all",
        "I would use <tool_call> tags, but no call is needed.",
    ],
)
def test_prose_and_json_that_is_not_a_call_to_an_offered_tool_stay_an_answer(text):
    result = repair(text)
    assert result.is_answer and result.text == text
    assert not result.found and not result.unclear_tool_calls


def test_the_trail_says_why_json_stayed_prose():
    result = repair('{"name": "Alice", "age": 30}')
    assert stages(result) == [EXTRACT_BARE_JSON]
    assert result.trail[0].note == "not a call: 'Alice' is not an offered tool"


def test_without_offered_tools_nothing_is_extracted_and_empty_is_not_a_dropped_call():
    tagged = repair('<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>', tools=[])
    assert tagged.is_answer and not tagged.found
    empty = repair("", tools=[])
    assert not empty.dropped_call and not empty.is_answer


# --- length limit -------------------------------------------------------------------------


def test_calls_of_a_reply_cut_off_at_the_length_limit_are_not_run():
    result = repair(calls=[ToolCallPart("c1", "get_weather", TOKYO)], done_reason="length")
    assert result.calls == () and result.distrusted and result.unclear_tool_calls
    assert result.invalid_calls[0].errors == (LENGTH_ERROR,)
    assert result.trail[-1].stage == DISTRUST_LENGTH
    assert result.trail[-1].before == ["get_weather"]


def test_prose_cut_off_at_the_length_limit_is_an_answer_flagged_as_distrusted():
    result = repair("The answer is", done_reason="length")
    assert result.is_answer and result.distrusted and not result.unclear_tool_calls


# --- the result as stored and as a routing fact -------------------------------------------


def test_to_dict_holds_everything_the_inspector_shows():
    result = repair(
        "<tool_call>{'name': 'add_two_numbers', 'arguments': {'a': '1', 'b': 2}}</tool_call>"
    )
    stored = result.to_dict()
    assert stored["calls"] == [
        {"id": result.calls[0].id, "name": "add_two_numbers", "arguments": {"a": 1, "b": 2}}
    ]
    assert [r["stage"] for r in stored["trail"]] == [
        EXTRACT_TOOL_CALL_TAGS,
        JSON_REPAIR,
        COERCE_TYPES,
        VALIDATE,
    ]
    assert stored["found"][0]["raw"].startswith("<tool_call>")
    assert [r["stage"] for r in stored["found"][0]["trail"]] == [
        JSON_REPAIR,
        COERCE_TYPES,
        VALIDATE,
    ]
    assert stored["unclear_tool_calls"] is False


def test_the_result_feeds_the_unclear_tool_calls_routing_rule():
    rule = condition_parse("response.unclear_tool_calls")
    unclear = repair('<tool_call>{"name": "nope"}</tool_call>')
    clear = repair('<tool_call>{"name": "get_weather", "arguments": {"city": "T"}}</tool_call>')
    assert rule.evaluate({"response.unclear_tool_calls": unclear.unclear_tool_calls})
    assert not rule.evaluate({"response.unclear_tool_calls": clear.unclear_tool_calls})


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<tool_call>" * 2000,
        "</tool_call>" * 2000,
        "[" * 50_000,
        "{" * 50_000,
        '{"name": "get_weather", "arguments": ' + "[" * 5000,
        "<start_function_call>call:get_weather{a:" + "[" * 5000 + "<end_function_call>",
        "```json\n" * 1000,
        "<tool_call>" + '{"name": "get_weather", "arguments": {"city": "' + "x" * 200_000 + '"}}',
        '{"name": "get_weather", "arguments": {"city": 1e999}}',
        '{"name": "get_weather", "arguments": {"city": NaN}}',
        "\x00\ud800<tool_call>\x00</tool_call>",
    ],
)
def test_hostile_replies_never_raise(text):
    repair(text)


def test_replies_beyond_the_size_limit_are_not_searched_for_calls():
    text = '{"name": "get_weather", "arguments": {"city": "' + "x" * MAX_TEXT_LENGTH + '"}}'
    result = repair(text)
    assert result.is_answer and not result.found


FRAGMENTS = st.sampled_from(
    [
        "<tool_call>",
        "</tool_call>",
        "<start_function_call>",
        "<end_function_call>",
        "call:",
        "get_weather",
        "add_two_numbers",
        '{"name": "get_weather", "arguments": ',
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        ",",
        ":",
        "```json\n",
        "```",
        "\n",
        "<escape>",
        "True",
        "null",
        "5",
        '"city"',
        "parameters",
        "arguments",
        "function",
        " ",
        "侴",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=30).map("".join), st.sampled_from(["stop", "length", ""]))
def test_random_call_like_text_never_raises(text, done_reason):
    result = repair(text, done_reason=done_reason)
    assert all(call.name in {t.name for t in TOOLS} for call in result.calls)
    assert not (result.calls and result.distrusted)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_random_text_never_raises(text):
    result = repair(text)
    if not text.strip():
        assert result.dropped_call


def test_a_runaway_reply_runs_at_most_the_call_limit():
    block = '<tool_call>{"name": "get_weather", "arguments": {"city": "T"}}</tool_call>'
    result = repair(block * (MAX_CALLS + 3))
    assert len(result.calls) == MAX_CALLS
    assert [call.errors for call in result.invalid_calls] == [(TOO_MANY_CALLS,)] * 3
