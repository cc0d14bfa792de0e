"""OllamaClient against the fake Ollama server: what goes on the wire and how replies are read."""

from __future__ import annotations

import json
import logging

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
from orchestration.providers.ollama import OllamaClient
from tests.fakes import replies as r
from tests.fakes.replies import FIXTURES

REFERENCE = FIXTURES["_requests"]["chat_with_tools"]
WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city",
    parameters=REFERENCE["tools"][0]["function"]["parameters"],
)
OPTIONS = ModelOptions(num_ctx=16384, temperature=0.2, seed=42)
ASK = ModelRequest(
    model="qwen2.5:14b",
    messages=(
        ChatMessage("system", "You are a travel assistant."),
        ChatMessage("user", "What is the weather in Tokyo?"),
    ),
    tools=(WEATHER,),
    options=OPTIONS,
    keep_alive="30m",
)
FOLLOW_UP = ModelRequest(
    model="qwen2.5:14b",
    messages=(
        *ASK.messages,
        ChatMessage(
            "assistant",
            "Let me check.",
            tool_calls=(ToolCallPart("call_k3n9x2pq", "get_weather", {"city": "Tokyo"}),),
        ),
        ChatMessage(
            "tool",
            '{"temp_c": 18, "sky": "overcast"}',
            tool_call_id="call_k3n9x2pq",
            tool_name="get_weather",
        ),
    ),
    tools=(WEATHER,),
    options=OPTIONS,
)


@pytest.fixture
def ollama(fake_ollama) -> OllamaClient:
    retry = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.01)
    return OllamaClient(
        base_url=fake_ollama.url, server="ollama01", timeouts=Timeouts(1, 2, 5), retry=retry
    )


async def events_of(client: OllamaClient, request: ModelRequest) -> list:
    return [event async for event in client.chat_stream(request)]


# --- what is sent ----------------------------------------------------------------------------


async def test_first_turn_with_tools_matches_the_reference_request(fake_ollama, ollama):
    await ollama.chat(ASK)
    sent = fake_ollama.requests_to("/api/chat")[-1].json
    # we also pin top_p, which the reference leaves to the model's default
    assert sent == {**REFERENCE, "options": {**REFERENCE["options"], "top_p": 0.9}}


async def test_streaming_call_sends_stream_true_explicitly(fake_ollama, ollama):
    await events_of(ollama, ASK)
    assert fake_ollama.requests_to("/api/chat")[-1].json["stream"] is True


async def test_tool_turns_are_echoed_with_empty_content_and_object_arguments(fake_ollama, ollama):
    await ollama.chat(FOLLOW_UP)
    messages = fake_ollama.requests_to("/api/chat")[-1].json["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_k3n9x2pq",
                "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Tokyo"}},
            }
        ],
    }
    assert messages[3] == {
        "role": "tool",
        "content": '{"temp_c": 18, "sky": "overcast"}',
        "tool_name": "get_weather",
        "tool_call_id": "call_k3n9x2pq",
    }


async def test_json_schema_goes_out_as_format(fake_ollama, ollama):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    await ollama.chat(
        ModelRequest(
            model="qwen2.5:14b", messages=ASK.messages, response_format=schema, options=OPTIONS
        )
    )
    sent = fake_ollama.requests_to("/api/chat")[-1].json
    assert sent["format"] == schema
    assert "tools" not in sent


async def test_call_without_pinned_context_window_is_refused_before_sending(fake_ollama, ollama):
    unpinned = ModelRequest(model="qwen2.5:14b", messages=ASK.messages, options=ModelOptions())
    with pytest.raises(e.BadRequest, match="num_ctx"):
        await ollama.chat(unpinned)
    assert fake_ollama.requests_to("/api/chat") == []


async def test_tools_and_format_together_are_refused(fake_ollama, ollama):
    both = ModelRequest(
        model="qwen2.5:14b",
        messages=ASK.messages,
        tools=(WEATHER,),
        response_format={"type": "object"},
        options=OPTIONS,
    )
    with pytest.raises(e.BadRequest):
        await ollama.chat(both)
    assert fake_ollama.requests_to("/api/chat") == []


# --- what is read ----------------------------------------------------------------------------


async def test_plain_reply_carries_usage_and_the_timing_split(fake_ollama, ollama):
    fake_ollama.script(r.fixture("chat_plain"))
    reply = await ollama.chat(ASK)
    assert reply.message.content == FIXTURES["chat_plain"]["message"]["content"]
    assert reply.done_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (36, 25)
    assert reply.timing.load_ms == pytest.approx(17.261042)
    assert reply.timing.prompt_eval_ms == pytest.approx(48.212)
    assert reply.timing.generation_ms == pytest.approx(551.92)
    assert reply.server == "ollama01"


async def test_tool_call_keeps_the_server_id_and_object_arguments(fake_ollama, ollama):
    fake_ollama.script(r.fixture("chat_tool_call"))
    reply = await ollama.chat(ASK)
    assert reply.message.tool_calls == (
        ToolCallPart("call_k3n9x2pq", "get_weather", {"city": "Tokyo"}),
    )


async def test_parallel_tool_calls_arrive_in_order(fake_ollama, ollama):
    fake_ollama.script(r.fixture("chat_tool_call_parallel"))
    calls = (await ollama.chat(ASK)).message.tool_calls
    assert [c.arguments["city"] for c in calls] == ["Tokyo", "Osaka"]
    assert [c.id for c in calls] == ["call_0f7wq2ma", "call_y81dkz4c"]


@pytest.mark.parametrize(
    "scenario", ["chat_tool_call_legacy_v0_4_7_to_v0_12_9", "chat_tool_call_legacy_v0_3_to_v0_4_6"]
)
async def test_legacy_tool_calls_without_id_or_index_get_distinct_ids(
    fake_ollama, ollama, scenario
):
    fake_ollama.script(r.fixture(scenario))
    calls = (await ollama.chat(ASK)).message.tool_calls
    assert calls and all(c.id.startswith("call_") and len(c.id) == 13 for c in calls)
    assert len({c.id for c in calls}) == len(calls)
    assert calls[0] == ToolCallPart(calls[0].id, "get_weather", {"city": "Tokyo"})


async def test_streamed_text_arrives_as_deltas_that_add_up_to_the_reply(fake_ollama, ollama):
    fake_ollama.script(r.fixture("chat_stream_chunks"))
    events = await events_of(ollama, ASK)
    deltas = [ev.text for ev in events if isinstance(ev, TextDelta)]
    done = events[-1]
    assert isinstance(done, ReplyDone) and len(deltas) == 24
    assert (
        "".join(deltas)
        == done.reply.message.content
        == FIXTURES["chat_plain"]["message"]["content"]
    )
    assert done.reply.timing.generation_ms == pytest.approx(551.92)


@pytest.mark.parametrize(
    "scenario",
    [
        "chat_stream_tool_call_chunks",
        "chat_stream_tool_call_in_final_chunk",
        "chat_stream_text_then_tool_call",
    ],
)
async def test_streamed_tool_calls_are_collected_from_every_line(fake_ollama, ollama, scenario):
    fake_ollama.script(r.fixture(scenario))
    reply = (await events_of(ollama, ASK))[-1].reply
    assert [(c.name, c.arguments) for c in reply.message.tool_calls] == [
        ("get_weather", {"city": "Tokyo"})
    ]
    assert reply.message.tool_calls[0].id.startswith("call_")


async def test_text_before_a_streamed_tool_call_is_kept(fake_ollama, ollama):
    fake_ollama.script(r.fixture("chat_stream_text_then_tool_call"))
    reply = (await events_of(ollama, ASK))[-1].reply
    assert reply.message.content == "Let me check that.\n"


@pytest.mark.parametrize(
    ("scenario", "error_class", "retryable"),
    [
        ("error_model_not_found", e.ModelNotFound, False),
        ("error_model_not_found_pull_hint", e.ModelNotFound, False),
        ("error_no_tools_support", e.ModelUnsupported, False),
        ("error_think_unsupported", e.ModelUnsupported, False),
        ("error_missing_model", e.BadRequest, False),
        ("error_string_arguments_in_history", e.BadRequest, False),
        ("error_prompt_too_long_shift_false", e.ContextOverflow, False),
        ("error_invalid_option_type", e.BadRequest, False),
        ("error_queue_full", e.ServerBusy, True),
        ("error_runner_stopped", e.ServerError, True),
    ],
)
async def test_error_catalogue_maps_to_typed_errors(
    fake_ollama, ollama, scenario, error_class, retryable
):
    fake_ollama.always(r.fixture(scenario))
    with pytest.raises(e.ModelError) as caught:
        await ollama.chat(ASK)
    assert type(caught.value) is error_class
    assert caught.value.retryable is retryable
    assert caught.value.message == FIXTURES[scenario]["error"]
    assert len(caught.value.attempts) == (2 if retryable else 1)


async def test_the_fake_server_rejects_string_arguments_like_the_real_one(fake_ollama, ollama):
    # guards the fake itself: a client that sent JSON-string arguments must not pass silently
    body = ollama.chat_body(FOLLOW_UP, stream=False)
    body["messages"][2]["tool_calls"][0]["function"]["arguments"] = json.dumps({"city": "Tokyo"})
    with pytest.raises(e.BadRequest, match="cannot unmarshal string"):
        await ollama.http.request_json("POST", "/api/chat", body)


# --- server facts ----------------------------------------------------------------------------


async def test_show_reads_context_length_from_the_architecture_key(ollama):
    info = await ollama.show("qwen2.5:14b")
    assert (info.architecture, info.context_length) == ("qwen2", 32768)
    assert info.supports_tools is True
    gemma = await ollama.show("functiongemma")
    assert (gemma.architecture, gemma.context_length) == ("gemma3", 32768)


async def test_show_of_a_missing_model_raises_model_not_found(ollama):
    with pytest.raises(e.ModelNotFound):
        await ollama.show("llama9:1t")


async def test_model_without_tools_capability_gets_a_warning(fake_ollama, ollama, caplog):
    fake_ollama.show_bodies["functiongemma"] = {
        **FIXTURES["show_functiongemma"],
        "capabilities": ["completion"],
    }
    with caplog.at_level(logging.WARNING):
        warning = await ollama.check_tools("functiongemma")
    assert warning and "tools" in warning
    assert warning in caplog.text
    assert await ollama.check_tools("qwen2.5:14b") is None


async def test_tags_ps_and_version_describe_the_server(fake_ollama, ollama):
    fake_ollama.loaded = {"qwen2.5:14b": 16384}
    assert "qwen2.5:14b" in [m.name for m in await ollama.tags()]
    assert [(m.name, m.context_length) for m in await ollama.ps()] == [("qwen2.5:14b", 16384)]
    assert await ollama.version() == "0.13.5"


async def test_health_collects_version_loaded_models_and_context_lengths(fake_ollama, ollama):
    fake_ollama.loaded = {"functiongemma:latest": 8192}
    health = await ollama.health()
    assert health.version == "0.13.5"
    assert health.loaded_models == ("functiongemma:latest",)
    assert health.context_lengths["qwen2.5:14b"] == 32768
    assert health.context_lengths["functiongemma:latest"] == 32768
    assert health.latency_ms is not None


async def test_health_uses_tags_context_length_on_new_servers_without_show_calls(
    fake_ollama, ollama
):
    fake_ollama.tags_body = FIXTURES["tags_v0_30_plus"]
    health = await ollama.health()
    assert health.context_lengths == {"functiongemma:latest": 32768, "qwen2.5:14b": 32768}
    assert fake_ollama.requests_to("/api/show") == []
