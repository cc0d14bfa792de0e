from __future__ import annotations

import pytest

from orchestration.engine.repair.functiongemma import (
    FunctionGemmaError,
    find_functiongemma_blocks,
    parse_functiongemma_call,
)

from .conftest import REPLIES


def test_the_recorded_raw_text_parses_into_the_call_ollama_made_of_it():
    blocks, prose = find_functiongemma_blocks(REPLIES["functiongemma_raw_model_text"])
    assert prose == ""
    assert len(blocks) == 1
    name, arguments = parse_functiongemma_call(blocks[0][0])
    expected = REPLIES["functiongemma_tool_call"]["message"]["tool_calls"][0]["function"]
    assert (name, arguments) == (expected["name"], expected["arguments"])


@pytest.mark.parametrize(
    ("body", "arguments"),
    [
        ("call:f{}", {}),
        ("call:f{s:<escape>a, b: {c}<escape>}", {"s": "a, b: {c}"}),
        ("call:f{yes:true,no:false}", {"yes": True, "no": False}),
        ("call:f{n:5,m:-3,x:2.5}", {"n": 5, "m": -3, "x": 2.5}),
        ("call:f{xs:[1,<escape>two<escape>,[3]]}", {"xs": [1, "two", [3]]}),
        ("call:f{o:{a:1,b:<escape>x<escape>}}", {"o": {"a": 1, "b": "x"}}),
        ("call:f{raw:hello world}", {"raw": "hello world"}),
        ("call:f{raw:null}", {"raw": "null"}),
        ("call:f{big:1.5e99999}", {"big": "1.5e99999"}),
        ("call:f{empty:[]}", {"empty": []}),
        ("call:f{ spaced : 3 }", {"spaced": 3}),
    ],
)
def test_values_parse_as_ollamas_parser_reads_them(body, arguments):
    assert parse_functiongemma_call(body) == ("f", arguments)


@pytest.mark.parametrize("body", ["get_weather{city:x}", "call:f", "call:{a:1}", "call:f{novalue}"])
def test_bodies_not_in_the_call_form_are_errors(body):
    with pytest.raises(FunctionGemmaError):
        parse_functiongemma_call(body)


def test_deep_nesting_is_refused():
    with pytest.raises(FunctionGemmaError, match="deeper"):
        parse_functiongemma_call("call:f{a:" + "[" * 200 + "]" * 200 + "}")


def test_several_blocks_and_the_prose_around_them_are_found():
    text = (
        "Checking.<start_function_call>call:a{}<end_function_call> and "
        "<start_function_call>call:b{n:1}<end_function_call>done"
    )
    blocks, prose = find_functiongemma_blocks(text)
    assert blocks == [("call:a{}", True), ("call:b{n:1}", True)]
    assert prose == "Checking. and done"


def test_a_block_cut_off_at_the_end_is_marked_unclosed():
    blocks, _ = find_functiongemma_blocks("<start_function_call>call:a{x:<escape>half")
    assert blocks == [("call:a{x:<escape>half", False)]
