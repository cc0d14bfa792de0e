"""``start_multi_model_conversation``: specialists talking to each other.

Direct mode: each participant keeps its own thread and receives the others' replies as they are.
Arbiter-mediated mode: the arbiter reviews each message before delivery and answers with a
structured decision ``{action: pass|modify|redirect|filter, text, redirect_to, withheld}``;
each delivered copy is recorded in the recipient's thread with the original text, the decision
and what was withheld from that participant. With ``arbiter_reviews_all`` every conversation is
mediated, whatever mode was asked for. Speakers take turns in order; a redirected message makes
its new recipient the next speaker. The transcript summary is the tool result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestration.engine.errors import ModelError
from orchestration.engine.modelcall import StepContext, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord
from orchestration.engine.repair.json_repair import JsonRepairError, json_loads_tolerant
from orchestration.engine.repair.validate import validate_arguments
from orchestration.engine.tools import ARBITER, START_CONVERSATION
from orchestration.engine.types import ChatMessage

SUMMARY_CHARS = 600
ACTIONS = ("pass", "modify", "redirect", "filter")


def review_schema(participants: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "text": {"type": "string"},
            "redirect_to": {"type": "string", "enum": [*participants, ""]},
            "withheld": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["action"],
    }


def parse_review(text: str, participants: list[str], speaker: str) -> dict[str, Any]:
    """The arbiter's decision, checked; an unusable one becomes ``pass`` with the reason."""
    try:
        value, _ = json_loads_tolerant(text.strip())
    except (JsonRepairError, ValueError) as exc:
        return {"action": "pass", "note": f"review unreadable ({exc}); delivered unchanged"}
    errors = validate_arguments(value, review_schema(participants))
    if errors:
        return {"action": "pass", "note": f"review invalid ({'; '.join(errors)}); unchanged"}
    decision = {
        "action": value["action"],
        "text": str(value.get("text") or ""),
        "redirect_to": str(value.get("redirect_to") or ""),
        "withheld": [str(item) for item in value.get("withheld") or []],
    }
    if decision["action"] in ("modify", "filter") and not decision["text"].strip():
        return {**decision, "action": "pass", "note": f"{decision['action']} without text"}
    if decision["action"] == "redirect" and decision["redirect_to"] in ("", speaker):
        return {**decision, "action": "pass", "note": "redirect without another participant"}
    return decision


@dataclass
class _Dialogue:
    call_key: str
    participants: list[str]
    topic: str
    mediated: bool
    threads: dict[str, list[ChatMessage]] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def where(self, role: str) -> dict[str, str]:
        return {
            "thread_key": f"dialogue:{self.call_key}:{role}",
            "participant": role,
            "thread_label": f"conversation: {role}",
            "parent_thread_key": "arbiter",
        }


async def run_dialogue(ctx: StepContext, *, call_key: str, arguments: dict[str, Any]) -> dict:
    policy = ctx.state.policy
    participants = [str(role) for role in arguments.get("participants") or []]
    requested = str(arguments.get("mode") or ctx.state.mode or "direct")
    result: dict[str, Any] = {"tool": START_CONVERSATION, "participants": participants}
    problem = _refusal(ctx, participants)
    if problem:
        return {**result, "success": False, "error": problem}
    mediated = requested == "arbiter_mediated" or policy.arbiter_reviews_all
    mode = "arbiter_mediated" if mediated else "direct"
    if mode != requested:
        result["mode_requested"] = requested
        result["note"] = "arbiter_reviews_all is on: every message was reviewed"
    turns = int(arguments.get("max_turns") or 2 * len(participants))
    talk = _Dialogue(call_key, participants, str(arguments.get("topic", "")), mediated)
    await ctx.journal.conversation_update(participants=participants)
    await _open(ctx, talk)
    speaker, error = participants[0], ""
    for turn in range(1, turns + 1):
        try:
            speaker = await _turn(ctx, talk, turn, speaker)
        except ModelError as exc:
            error = f"turn {turn} ({speaker}) failed: {exc}"
            break
    summary = "\n".join(
        f"{entry['speaker']}: {entry['text'][:SUMMARY_CHARS]}" for entry in talk.transcript
    )
    result.update(
        success=bool(talk.transcript),
        mode=mode,
        turns=len(talk.transcript),
        transcript=talk.transcript,
        summary=summary,
    )
    if error:
        result["error"] = error
    return result


def _refusal(ctx: StepContext, participants: list[str]) -> str:
    policy = ctx.state.policy
    if not policy.allow_model_to_model:
        return "model-to-model conversations are switched off (allow_model_to_model: false)"
    unknown = [r for r in participants if r not in ctx.state.specialists or r == ARBITER]
    if unknown:
        return f"not specialists of this run: {', '.join(unknown)}"
    if len(set(participants)) < 2:
        return "a conversation needs at least two different participants"
    if len(participants) > policy.max_models_per_conversation:
        return (
            f"{len(participants)} participants exceed max_models_per_conversation "
            f"({policy.max_models_per_conversation})"
        )
    return ""


async def _open(ctx: StepContext, talk: _Dialogue) -> None:
    for role in talk.participants:
        others = ", ".join(other for other in talk.participants if other != role)
        system = ctx.template(
            "dialogue.system", {"role": role, "others": others, "topic": talk.topic}, role=role
        )
        await ensure_message(
            ctx.journal,
            MessageRecord(
                key=f"{talk.call_key}:{role}:system",
                sender="engine",
                recipient=role,
                role="system",
                content=system,
                **talk.where(role),
            ),
        )
        talk.threads[role] = [ChatMessage("system", system)]
    first = talk.participants[0]
    opening = ctx.template("dialogue.opening", {"topic": talk.topic}, role=first)
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{talk.call_key}:{first}:opening",
            sender="arbiter",
            recipient=first,
            role="user",
            content=opening,
            **talk.where(first),
        ),
    )
    talk.threads[first].append(ChatMessage("user", opening))


async def _turn(ctx: StepContext, talk: _Dialogue, turn: int, speaker: str) -> str:
    """One message: the speaker replies, it is reviewed (if mediated) and delivered.
    Returns the next speaker."""
    key = f"{talk.call_key}:t{turn}"
    reply = await model_turn(
        ctx,
        role=speaker,
        key=f"{key}:reply",
        messages=talk.threads[speaker],
        recipient="participants",
        **talk.where(speaker),
    )
    text = reply.content
    talk.threads[speaker].append(ChatMessage("assistant", text))
    others = [role for role in talk.participants if role != speaker]
    decision: dict[str, Any] = {"action": "pass"}
    if talk.mediated:
        decision = await _review(ctx, talk, key, speaker, others, text)
    action = decision["action"]
    recipients = [decision["redirect_to"]] if action == "redirect" else others
    delivered = decision["text"] if action in ("modify", "filter") else text
    withheld: dict[str, list[str]] = {}
    for role in others:
        if role not in recipients:
            withheld[role] = [f"the whole message (redirected to {decision['redirect_to']})"]
        elif action == "filter":
            withheld[role] = list(decision.get("withheld") or ["(parts of the message)"])
    for role in recipients:
        content = f"[{speaker}]: {delivered}"
        await ensure_message(
            ctx.journal,
            MessageRecord(
                key=f"{key}:to:{role}",
                sender=speaker,
                recipient=role,
                role="user",
                content=content,
                original_content=text if delivered != text else "",
                review=decision if talk.mediated else None,
                withheld=tuple(withheld.get(role, ())),
                **talk.where(role),
            ),
        )
        talk.threads[role].append(ChatMessage("user", content))
    talk.transcript.append(
        {
            "turn": turn,
            "speaker": speaker,
            "text": text,
            "action": action,
            "delivered": {role: (delivered if role in recipients else None) for role in others},
            "withheld": withheld,
        }
    )
    if action == "redirect":
        return decision["redirect_to"]
    return talk.participants[(talk.participants.index(speaker) + 1) % len(talk.participants)]


async def _review(
    ctx: StepContext, talk: _Dialogue, key: str, speaker: str, others: list[str], text: str
) -> dict[str, Any]:
    where = {
        "thread_key": f"dialogue:{talk.call_key}:review",
        "participant": ARBITER,
        "thread_label": "conversation: arbiter review",
        "parent_thread_key": "arbiter",
    }
    system = ctx.template("review.system", {"topic": talk.topic}, role=ARBITER)
    message = ctx.template(
        "review.message",
        {"sender": speaker, "recipients": ", ".join(others), "text": text},
        role=ARBITER,
    )
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{key}:review:prompt",
            sender="engine",
            recipient=ARBITER,
            role="user",
            content=message,
            **where,
        ),
    )
    try:
        reply = await model_turn(
            ctx,
            role=ARBITER,
            key=f"{key}:review",
            messages=[ChatMessage("system", system), ChatMessage("user", message)],
            response_format=review_schema(talk.participants),
            recipient="engine",
            **where,
        )
    except ModelError as exc:
        return {"action": "pass", "note": f"review failed ({exc}); delivered unchanged"}
    return parse_review(reply.content, talk.participants, speaker)
