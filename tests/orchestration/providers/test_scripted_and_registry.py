"""ScriptedClient (the deterministic ModelClient) and the kind → client registry."""

from __future__ import annotations

import pickle

import pytest

from orchestration.engine import errors as e
from orchestration.engine.client import ModelClient
from orchestration.engine.types import (
    Attempt,
    ChatMessage,
    ModelReply,
    ModelRequest,
    ReplyDone,
    TextDelta,
)
from orchestration.providers.ollama import OllamaClient
from orchestration.providers.openai import OpenAIClient
from orchestration.providers.registry import client_for_server, scripted_servers
from orchestration.providers.scripted import ScriptedClient, tool_call_message


def ask(text: str, model: str = "qwen2.5:14b") -> ModelRequest:
    return ModelRequest(model=model, messages=(ChatMessage("user", text),))


async def test_scripted_replies_come_in_order_and_every_call_is_recorded():
    alice = ScriptedClient(
        ["first", tool_call_message("get_weather", {"city": "Tokyo"}, call_id="call_a")]
    )
    one = await alice.chat(ask("hello"))
    two = await alice.chat(ask("weather?"))
    assert one.message.content == "first" and one.model == "qwen2.5:14b"
    assert two.message.tool_calls[0].arguments == {"city": "Tokyo"}
    assert [c.messages[-1].content for c in alice.calls] == ["hello", "weather?"]
    assert one.attempts[0].outcome == "ok"


async def test_scripted_client_says_clearly_when_its_script_runs_out():
    bob = ScriptedClient(["only one"], server="bob")
    await bob.chat(ask("a"))
    with pytest.raises(e.ScriptExhausted, match="no reply left for call #2"):
        await bob.chat(ask("b"))


async def test_scripted_function_answers_from_the_request():
    charlie = ScriptedClient(respond=lambda request: f"echo: {request.messages[-1].content}")
    assert (await charlie.chat(ask("ping"))).message.content == "echo: ping"
    assert (await charlie.chat(ask("pong"))).message.content == "echo: pong"


async def test_scripted_errors_are_raised_with_an_attempt():
    client = ScriptedClient([e.ServerBusy("queue full", status=503)])
    with pytest.raises(e.ServerBusy) as caught:
        await client.chat(ask("x"))
    assert caught.value.attempts[0].outcome == "ServerBusy"


async def test_scripted_stream_yields_deltas_that_join_to_the_reply():
    client = ScriptedClient(["The sky  looks\nblue."])
    events = [ev async for ev in client.chat_stream(ask("why"))]
    assert isinstance(events[-1], ReplyDone)
    assert "".join(ev.text for ev in events if isinstance(ev, TextDelta)) == "The sky  looks\nblue."


async def test_a_full_scripted_reply_is_returned_as_given():
    reply = ModelReply(message=ChatMessage("assistant", "hi"), model="other", done_reason="length")
    got = await ScriptedClient([reply]).chat(ask("x"))
    assert (got.model, got.done_reason, got.server) == ("other", "length", "scripted")


def test_every_client_satisfies_the_model_client_port():
    for client in (
        OllamaClient(base_url="http://x"),
        OpenAIClient(base_url="http://x"),
        ScriptedClient(),
    ):
        assert isinstance(client, ModelClient)


def test_registry_builds_a_client_per_kind():
    assert isinstance(
        client_for_server("ollama", "http://127.0.0.1:11434", server="ollama01"), OllamaClient
    )
    assert isinstance(client_for_server("openai", "http://127.0.0.1:8080"), OpenAIClient)


def test_registry_finds_installed_scripted_servers_and_rejects_unknown_kinds():
    demo = ScriptedClient(["hi"], server="demo")
    scripted_servers["demo"] = demo
    try:
        assert client_for_server("scripted", "scripted://demo") is demo
    finally:
        del scripted_servers["demo"]
    with pytest.raises(LookupError, match="no scripted server"):
        client_for_server("scripted", "scripted://missing")
    with pytest.raises(LookupError, match="unknown server kind"):
        client_for_server("grpc", "http://x")


RETRYABLE = (
    e.ConnectFailed,
    e.ResponseTimeout,
    e.ServerBusy,
    e.ServerError,
    e.MidStreamError,
    e.StreamTruncated,
)
FINAL = (e.DeadlineExceeded, e.BadRequest, e.ModelNotFound, e.ModelUnsupported, e.ContextOverflow)
FINAL += (e.MalformedResponse, e.NoServerAvailable, e.ScriptExhausted)


@pytest.mark.parametrize("error_class", RETRYABLE + FINAL)
def test_every_error_survives_pickling_with_its_attempts(error_class):
    attempt = Attempt(1, "ollama01", 1.0, 12.5, error_class.__name__, "detail")
    err = error_class("boom", status=503, server="ollama01", attempts=(attempt,))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is error_class
    assert (back.message, back.status, back.server, back.attempts) == (
        "boom",
        503,
        "ollama01",
        (attempt,),
    )
    assert back.retryable is error_class.retryable


def test_only_transient_failures_are_retryable():
    assert all(c.retryable for c in RETRYABLE)
    assert not any(c.retryable for c in FINAL)
