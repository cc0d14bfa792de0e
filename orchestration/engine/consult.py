"""A specialist consult: the specialist's own thread, the arbiter's query, only chosen context.

The specialist sees its system prompt, the arbiter's query and the ``context`` the arbiter
passed; with ``include_full_history`` it also sees the conversation so far. Its reply returns as
the tool result ``{"tool", "success", "specialist", "response", "reasoning"?, "phase_proposal"?}``.
A specialist may propose a phase change with ``propose_phase_change``; the arbiter decides.
"""

from __future__ import annotations

import json
import re
from typing import Any

from orchestration.engine.errors import ModelError
from orchestration.engine.modelcall import StepContext, ensure_message, model_turn
from orchestration.engine.ports import MessageRecord
from orchestration.engine.repair import repair_reply
from orchestration.engine.state import RunState
from orchestration.engine.tools import PROPOSE_PHASE, specialist_tools
from orchestration.engine.types import ChatMessage

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL | re.IGNORECASE)
_REASONING = re.compile(
    r"^[ \t]*\**reasoning\**[ \t]*:[ \t]*\**[ \t]*", re.IGNORECASE | re.MULTILINE
)
HISTORY_RESULT_CHARS = 1500


def split_reasoning(text: str) -> tuple[str, str]:
    """``(answer, reasoning)``: ``<think>`` blocks and a final "Reasoning:" section are the
    reasoning; the rest is the answer. Reasoning is ``""`` when the specialist gave none."""
    parts = [match.strip() for match in _THINK.findall(text)]
    answer = _THINK.sub("", text)
    sections = list(_REASONING.finditer(answer))
    if sections:
        last = sections[-1]
        parts.append(answer[last.end() :].strip())
        answer = answer[: last.start()]
    return answer.strip(), "\n\n".join(part for part in parts if part)


def history_text(state: RunState) -> str:
    """The conversation so far as a specialist may read it: the task and the results."""
    lines = [f"Task: {state.task}"]
    for message in state.arbiter_history:
        if message.role == "tool" and message.content:
            content = message.content[:HISTORY_RESULT_CHARS]
            lines.append(f"Result of {message.tool_name or 'a tool'}: {content}")
    return "Conversation so far:\n" + "\n".join(lines)


def specialist_system(ctx: StepContext, role: str) -> str:
    info = ctx.state.specialists[role]
    proposals = len(ctx.state.phases) > 1
    sections = {
        "role": role,
        "model_note": "",
        "persona": info.persona,
        "phase": ctx.state.phase,
        "phase_note": (
            "If the work should move to another phase ("
            + ", ".join(ctx.state.phases)
            + "), you may call propose_phase_change."
        )
        if proposals
        else "",
    }
    key = f"specialist.{role}.system"
    try:
        return ctx.template(key, sections, role=role)
    except KeyError:
        return ctx.template("specialist.system", sections, role=role)


async def consult(
    ctx: StepContext, *, call_key: str, tool_name: str, role: str, query: str, context: str = ""
) -> dict[str, Any]:
    """Ask ``role`` the arbiter's ``query``; returns the tool result as a dict."""
    thread = f"consult:{call_key}"
    where = {
        "thread_key": thread,
        "participant": role,
        "thread_label": f"consult {role}",
        "parent_thread_key": "arbiter",
    }
    system = specialist_system(ctx, role)
    history = history_text(ctx.state) if ctx.state.policy.include_full_history else ""
    shown_context = f"Context:\n{context}" if context.strip() else ""
    text = ctx.template(
        "specialist.query", {"query": query, "context": shown_context, "history": history}
    )
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{call_key}:system",
            sender="engine",
            recipient=role,
            role="system",
            content=system,
            **where,
        ),
    )
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{call_key}:query",
            sender="arbiter",
            recipient=role,
            role="user",
            content=text,
            **where,
        ),
    )
    await ctx.journal.conversation_update(participants=[role])
    messages = [ChatMessage("system", system), ChatMessage("user", text)]
    tools = specialist_tools(ctx.state)
    result: dict[str, Any] = {"tool": tool_name, "specialist": role}
    try:
        turn = await model_turn(
            ctx,
            role=role,
            key=f"{call_key}:reply",
            messages=messages,
            tools=tools,
            recipient="arbiter",
            **where,
        )
        repaired = repair_reply(message=turn.message, tools=tools, done_reason=turn.done_reason)
        proposal = next((c for c in repaired.calls if c.name == PROPOSE_PHASE), None)
        answer_text = repaired.text if repaired.found else turn.content
        if proposal is not None:
            result["phase_proposal"] = {**proposal.arguments, "proposed_by": role}
            if not answer_text.strip():
                answer_text = await _answer_after_proposal(
                    ctx, call_key, messages, turn.message, proposal.id, where
                )
    except ModelError as exc:
        return {**result, "success": False, "error": str(exc)}
    answer, reasoning = split_reasoning(answer_text)
    result.update(success=True, response=answer)
    if reasoning:
        result["reasoning"] = reasoning
    return result


async def _answer_after_proposal(
    ctx: StepContext,
    call_key: str,
    messages: list[ChatMessage],
    reply: ChatMessage,
    proposal_id: str,
    where: dict[str, str],
) -> str:
    """A specialist that only proposed a phase change is asked once more for its answer."""
    role = where["participant"]
    note = json.dumps({"recorded": True, "note": "The arbiter decides. Now answer the query."})
    await ensure_message(
        ctx.journal,
        MessageRecord(
            key=f"{call_key}:proposal",
            sender="engine",
            recipient=role,
            role="tool",
            content=note,
            tool_call_id=proposal_id,
            **where,
        ),
    )
    follow = [
        *messages,
        reply,
        ChatMessage("tool", note, tool_call_id=proposal_id, tool_name=PROPOSE_PHASE),
    ]
    turn = await model_turn(
        ctx, role=role, key=f"{call_key}:reply2", messages=follow, recipient="arbiter", **where
    )
    return turn.content
