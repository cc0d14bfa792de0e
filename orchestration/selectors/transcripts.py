"""The transcript of a run as plain data (for the CLI's --json and the text printout)."""

from __future__ import annotations

from typing import Any

from orchestration.models import Conversation, Escalation, Message, ToolCall


def conversation_transcript(*, conversation: Conversation) -> dict[str, Any]:
    calls_by_message: dict[int, list[dict[str, Any]]] = {}
    for call in ToolCall.objects.filter(conversation=conversation).order_by("id"):
        calls_by_message.setdefault(call.message_id, []).append(
            {
                "id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
                "status": call.status,
                "result": call.result,
                "error": call.error,
                "repairs": call.repairs,
            }
        )
    messages = [
        {
            "seq": m.seq,
            "sender": m.sender,
            "recipient": m.recipient,
            "role": m.role,
            "content": m.content,
            "model": m.model,
            "tool_calls": calls_by_message.get(m.pk, []),
        }
        for m in Message.objects.filter(conversation=conversation).order_by("seq")
    ]
    escalations = [
        {
            "id": e.pk,
            "kind": e.kind,
            "status": e.status,
            "question": e.question,
            "options": e.options,
            "answer": e.answer,
        }
        for e in Escalation.objects.filter(conversation=conversation).order_by("id")
    ]
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "status_reason": conversation.status_reason,
        "phase": conversation.phase,
        "classification": conversation.classification,
        "routing_decision": conversation.routing_decision,
        "final_answer": conversation.final_answer,
        "tokens_used": conversation.tokens_used,
        "messages": messages,
        "escalations": escalations,
    }


def transcript_text(transcript: dict[str, Any]) -> str:
    lines = []
    for m in transcript["messages"]:
        model = f" ({m['model']})" if m["model"] else ""
        lines.append(f"#{m['seq']} {m['sender']} → {m['recipient']} [{m['role']}]{model}")
        if m["content"]:
            lines.extend(f"    {line}" for line in m["content"].splitlines())
        for call in m["tool_calls"]:
            lines.append(f"    ⚙ {call['name']}({_short(call['arguments'])}) — {call['status']}")
            for stage in call["repairs"]:
                lines.append(f"      repaired by {stage.get('stage', '?')}")
    for e in transcript["escalations"]:
        if e["status"] == "open":
            lines.append(f"? escalation {e['id']} ({e['kind']}) waits: {e['question']}")
    lines.append(
        f"status: {transcript['status']}"
        + (f" — {transcript['status_reason']}" if transcript["status_reason"] else "")
    )
    if transcript["final_answer"]:
        lines.append(f"final answer: {transcript['final_answer']}")
    return "\n".join(lines)


def _short(arguments: Any, limit: int = 120) -> str:
    text = str(arguments)
    return text if len(text) <= limit else text[: limit - 1] + "…"
