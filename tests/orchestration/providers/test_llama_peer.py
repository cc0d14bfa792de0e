"""OpenAIClient against a real llama.cpp server (llama-cpp-python) serving SmolLM2-135M."""

from __future__ import annotations

import json

import jsonschema
import pytest

from orchestration.engine.types import (
    ChatMessage,
    ModelOptions,
    ModelRequest,
    ReplyDone,
    TextDelta,
    ToolSpec,
)
from orchestration.providers.http import RetryPolicy, Timeouts
from orchestration.providers.openai import OpenAIClient

pytestmark = pytest.mark.llama

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
)
OPTIONS = ModelOptions(temperature=0.2, top_p=0.9, seed=7, num_predict=48)


@pytest.fixture
def smol(llama_server) -> OpenAIClient:
    timeouts = Timeouts(connect_s=2, read_s=60, deadline_s=120)
    return OpenAIClient(
        base_url=llama_server.url,
        server="llama",
        timeouts=timeouts,
        retry=RetryPolicy(max_attempts=1),
    )


def ask(model: str, text: str, **fields) -> ModelRequest:
    return ModelRequest(
        model=model, messages=(ChatMessage("user", text),), options=OPTIONS, **fields
    )


async def test_real_llama_server_gives_a_plain_reply(smol, llama_server):
    reply = await smol.chat(ask(llama_server.model, "Say hello in one short sentence."))
    assert reply.message.content.strip()
    assert reply.done_reason in ("stop", "length")
    assert reply.usage.prompt_tokens and reply.usage.completion_tokens
    assert [a.outcome for a in reply.attempts] == ["ok"]


async def test_real_llama_server_makes_a_schema_valid_forced_tool_call(smol, llama_server):
    request = ask(
        llama_server.model,
        "What is the weather in Tokyo?",
        tools=(WEATHER,),
        tool_choice="get_weather",
    )
    reply = await smol.chat(request)
    assert len(reply.message.tool_calls) == 1
    call = reply.message.tool_calls[0]
    assert call.name == "get_weather"
    jsonschema.validate(call.arguments, WEATHER.parameters)
    assert call.id


async def test_real_llama_server_streams_text_that_adds_up(smol, llama_server):
    events = [
        ev async for ev in smol.chat_stream(ask(llama_server.model, "Count from one to five."))
    ]
    done = events[-1]
    assert isinstance(done, ReplyDone)
    deltas = [ev.text for ev in events if isinstance(ev, TextDelta)]
    assert deltas and "".join(deltas) == done.reply.message.content


async def test_real_llama_server_answers_in_the_requested_json_schema(smol, llama_server):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    request = ask(
        llama_server.model, "Reply in JSON: what colour is the sky?", response_format=schema
    )
    reply = await smol.chat(request)
    jsonschema.validate(json.loads(reply.message.content), schema)
