"""OpenAIClient against the fake server's ``/v1/chat/completions`` (Ollama's OpenAI dialect)."""

from __future__ import annotations

import json

import pytest

from orchestration.engine import errors as e
from orchestration.engine.types import (
    ChatMessage,
    ModelOptions,
    ModelRequest,
    ReplyDone,
    TextDelta,
    ToolCallPart,
    ToolSpec,
)
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.openai import OpenAIClient
from tests.fakes import replies as r
from tests.fakes.ollama import PLAIN_TEXT
from tests.fakes.replies import FIXTURES

PATH = "/v1/chat/completions"
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city",
    FIXTURES["_requests"]["openai_chat_with_tools"]["tools"][0]["function"]["parameters"],
)
ASK = ModelRequest(
    model="qwen2.5:14b",
    messages=(ChatMessage("user", "What is the weather in Tokyo?"),),
    tools=(WEATHER,),
    options=ModelOptions(temperature=0.2, top_p=0.9),
)
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


@pytest.fixture
def openai(fake_ollama) -> OpenAIClient:
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.01)
    return OpenAIClient(
        base_url=fake_ollama.url, server="llama", timeouts=Timeouts(1, 2, 5), retry=retry
    )


def sent(fake) -> dict:
    return fake.requests_to(PATH)[-1].json


async def test_temperature_and_top_p_are_always_sent(fake_ollama, openai):
    await openai.chat(ModelRequest(model="m", messages=ASK.messages))
    body = sent(fake_ollama)
    assert (body["temperature"], body["top_p"], body["stream"]) == (0.2, 0.9, False)
    assert "num_ctx" not in json.dumps(body)


async def test_tool_request_matches_the_reference(fake_ollama, openai):
    await openai.chat(ASK)
    reference = FIXTURES["_requests"]["openai_chat_with_tools"]
    assert sent(fake_ollama)["tools"] == reference["tools"]


async def test_tool_history_carries_arguments_as_json_strings(fake_ollama, openai):
    follow_up = ModelRequest(
        model="qwen2.5:14b",
        messages=(
            *ASK.messages,
            ChatMessage(
                "assistant",
                "",
                tool_calls=(ToolCallPart("call_1", "get_weather", {"city": "Tokyo"}),),
            ),
            ChatMessage("tool", "18 C, overcast", tool_call_id="call_1", tool_name="get_weather"),
        ),
        tools=(WEATHER,),
    )
    await openai.chat(follow_up)
    messages = sent(fake_ollama)["messages"]
    assert messages[1]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
        }
    ]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "18 C, overcast"}


async def test_schema_goes_out_as_standard_json_schema_response_format(fake_ollama, openai):
    await openai.chat(ModelRequest(model="m", messages=ASK.messages, response_format=SCHEMA))
    assert sent(fake_ollama)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True},
    }


async def test_server_that_rejects_json_schema_gets_the_llama_cpp_form_from_then_on(
    fake_ollama, openai
):
    refusal = r.json_reply(
        {
            "detail": [
                {
                    "loc": ["body", "response_format", "type"],
                    "msg": "Input should be 'text' or 'json_object'",
                }
            ]
        },
        422,
    )
    fake_ollama.script(refusal, path=PATH)
    request = ModelRequest(model="m", messages=ASK.messages, response_format=SCHEMA)
    reply = await openai.chat(request)
    assert reply.message.content == PLAIN_TEXT
    assert sent(fake_ollama)["response_format"] == {"type": "json_object", "schema": SCHEMA}
    await openai.chat(request)
    assert len(fake_ollama.requests_to(PATH)) == 3  # one refusal, then no more


async def test_tools_are_offered_with_tool_choice_auto_by_default(fake_ollama, openai):
    await openai.chat(ModelRequest(model="m", messages=ASK.messages, tools=(WEATHER,)))

    assert sent(fake_ollama)["tool_choice"] == "auto"


async def test_tool_choice_naming_a_function_forces_it(fake_ollama, openai):
    forced = ModelRequest(
        model="m", messages=ASK.messages, tools=(WEATHER,), tool_choice="get_weather"
    )
    await openai.chat(forced)
    assert sent(fake_ollama)["tool_choice"] == {
        "type": "function",
        "function": {"name": "get_weather"},
    }


async def test_tool_call_reply_decodes_string_arguments(fake_ollama, openai):
    fake_ollama.script(r.fixture("openai_chat_tool_call"), path=PATH)
    reply = await openai.chat(ASK)
    assert reply.message.tool_calls == (
        ToolCallPart("call_k3n9x2pq", "get_weather", {"city": "Tokyo"}),
    )
    assert reply.done_reason == "tool_calls"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (212, 24)


async def test_streamed_tool_call_from_sse_chunks(fake_ollama, openai):
    fake_ollama.script(r.fixture("openai_stream_tool_call_chunks"), path=PATH)
    events = [ev async for ev in openai.chat_stream(ASK)]
    reply = events[-1].reply
    assert reply.message.tool_calls == (
        ToolCallPart("call_hk81qg8b", "get_weather", {"city": "Tokyo"}),
    )
    assert reply.done_reason == "tool_calls"
    assert sent(fake_ollama)["stream"] is True


async def test_tool_call_arguments_split_across_chunks_are_joined(fake_ollama, openai):
    head = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    pieces = [
        {
            "index": 0,
            "id": "call_a",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"ci'}},
        {"index": 0, "function": {"arguments": 'ty": "Osaka"}'}},
    ]
    events = [
        {**head, "choices": [{"index": 0, "delta": {"tool_calls": [p]}, "finish_reason": None}]}
        for p in pieces
    ]
    events += [
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        "[DONE]",
    ]
    fake_ollama.script(r.sse_reply(events), path=PATH)
    reply = [ev async for ev in openai.chat_stream(ASK)][-1].reply
    assert reply.message.tool_calls == (ToolCallPart("call_a", "get_weather", {"city": "Osaka"}),)


async def test_streamed_text_adds_up_and_usage_comes_from_the_last_chunk(openai):
    events = [ev async for ev in openai.chat_stream(ModelRequest(model="m", messages=ASK.messages))]
    deltas = "".join(ev.text for ev in events if isinstance(ev, TextDelta))
    done = events[-1]
    assert isinstance(done, ReplyDone)
    assert deltas == done.reply.message.content == PLAIN_TEXT
    assert done.reply.usage.prompt_tokens == 36


async def test_error_event_inside_the_stream_is_a_mid_stream_error(fake_ollama, openai):
    head = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    text = {**head, "choices": [{"index": 0, "delta": {"content": "Tok"}, "finish_reason": None}]}
    fake_ollama.script(r.sse_reply([text, {"error": {"message": "runner crashed"}}]), path=PATH)
    with pytest.raises(e.MidStreamError, match="runner crashed"):
        async for _ in openai.chat_stream(ASK):
            pass


async def test_sse_stream_ending_without_done_or_finish_reason_is_truncated(fake_ollama, openai):
    head = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    text = {**head, "choices": [{"index": 0, "delta": {"content": "Tok"}, "finish_reason": None}]}
    fake_ollama.script(r.sse_reply([text]), path=PATH)
    with pytest.raises(e.StreamTruncated):
        async for _ in openai.chat_stream(ASK):
            pass


@pytest.mark.parametrize(
    ("scenario", "error_class"),
    [
        ("openai_error_model_not_found", e.ModelNotFound),
        ("openai_error_no_tools_support_v0_6", e.ModelUnsupported),
    ],
)
async def test_openai_error_envelopes_map_to_typed_errors(
    fake_ollama, openai, scenario, error_class
):
    fake_ollama.script(r.fixture(scenario), path=PATH)
    with pytest.raises(error_class) as caught:
        await openai.chat(ASK)
    assert caught.value.message == FIXTURES[scenario]["error"]["message"]


async def test_health_lists_the_served_models(openai):
    health = await openai.health()
    assert "qwen2.5:14b" in health.loaded_models
    assert health.loaded_models == health.installed_models


async def test_a_server_that_breaks_tool_streams_is_asked_whole_from_then_on(fake_ollama, openai):
    # llama-cpp-python: "Automatic streaming tool choice is not supported" after a 200.
    fake_ollama.respond_with(
        lambda q: r.sse_reply([]) if q.json["stream"] else r.fixture("openai_chat_tool_call"),
        path=PATH,
    )

    first = [ev async for ev in openai.chat_stream(ASK)][-1].reply
    second = [ev async for ev in openai.chat_stream(ASK)][-1].reply

    assert first.message.tool_calls[0].name == second.message.tool_calls[0].name == "get_weather"
    streamed = [q.json["stream"] for q in fake_ollama.requests_to(PATH)]
    assert streamed[-2:] == [False, False]
    assert streamed.count(True) >= 1
