"""The tools models see, as JSON-schema ``ToolSpec`` values.

The arbiter gets ``consult_<role>_specialist`` per configured specialist (other than itself),
``start_multi_model_conversation``, ``synthesize_responses``, ``escalate_to_user``,
``reinterpret_with_functiongemma``, ``final_answer`` and ``decide_phase_change``. Specialists get
``propose_phase_change``. Only the tools that make sense for the run are offered: small models
choose better among few tools, and a tool that cannot run should not be tempting.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestration.engine.state import RunState, SpecialistInfo
from orchestration.engine.types import ToolSpec

ARBITER = "arbiter"
INTERPRETER = "interpreter"
CONSULT_PREFIX = "consult_"
CONSULT_SUFFIX = "_specialist"

START_CONVERSATION = "start_multi_model_conversation"
SYNTHESIZE = "synthesize_responses"
ESCALATE = "escalate_to_user"
REINTERPRET = "reinterpret_with_functiongemma"
FINAL_ANSWER = "final_answer"
DECIDE_PHASE = "decide_phase_change"
PROPOSE_PHASE = "propose_phase_change"

MAX_DIALOGUE_TURNS = 12


def consult_role(tool_name: str) -> str | None:
    """The role a ``consult_<role>_specialist`` name asks for, else ``None``."""
    if tool_name.startswith(CONSULT_PREFIX) and tool_name.endswith(CONSULT_SUFFIX):
        role = tool_name[len(CONSULT_PREFIX) : -len(CONSULT_SUFFIX)]
        return role or None
    return None


def consult_tool(specialist: SpecialistInfo) -> ToolSpec:
    about = specialist.description or f"the {specialist.role} specialist ({specialist.model})"
    return ToolSpec(
        name=specialist.tool_name,
        description=f"Ask {about}. It sees only your query and the context you pass.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The question or task."},
                "context": {
                    "type": "string",
                    "description": "Facts the specialist needs (it has not seen the conversation).",
                },
            },
            "required": ["query"],
        },
    )


def conversation_tool(roles: Sequence[str], max_models: int) -> ToolSpec:
    return ToolSpec(
        name=START_CONVERSATION,
        description="Let specialists talk to each other about a topic; returns the transcript.",
        parameters={
            "type": "object",
            "properties": {
                "participants": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(roles)},
                    "minItems": 2,
                    "maxItems": max(2, max_models),
                    "uniqueItems": True,
                },
                "topic": {"type": "string"},
                "max_turns": {"type": "integer", "minimum": 1, "maximum": MAX_DIALOGUE_TURNS},
                "mode": {"type": "string", "enum": ["direct", "arbiter_mediated"]},
            },
            "required": ["participants", "topic"],
        },
    )


SYNTHESIZE_TOOL = ToolSpec(
    name=SYNTHESIZE,
    description="Combine several specialist answers into one (the answers so far if none given).",
    parameters={
        "type": "object",
        "properties": {
            "responses": {"type": "array", "items": {"type": "string"}},
            "instructions": {"type": "string", "description": "What the synthesis should do."},
        },
    },
)

ESCALATE_TOOL = ToolSpec(
    name=ESCALATE,
    description="Ask the human operator a question and wait for the answer.",
    parameters={
        "type": "object",
        "properties": {
            "question": {"type": "string"},
            "options": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["question"],
    },
)

REINTERPRET_TOOL = ToolSpec(
    name=REINTERPRET,
    description="Have the interpreter model turn text into tool calls you can make.",
    parameters={
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "reason": {"type": "string", "description": "Why it needs interpreting."},
        },
        "required": ["text"],
    },
)

FINAL_ANSWER_TOOL = ToolSpec(
    name=FINAL_ANSWER,
    description="Give the final answer to the task. Ends the run.",
    parameters={
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    },
)


def decide_phase_tool(phases: Sequence[str]) -> ToolSpec:
    return ToolSpec(
        name=DECIDE_PHASE,
        description="Accept or refuse a change of phase (proposed by a specialist, or your own).",
        parameters={
            "type": "object",
            "properties": {
                "phase": {"type": "string", "enum": list(phases)},
                "accept": {"type": "boolean"},
                "reason": {"type": "string"},
            },
            "required": ["phase", "accept"],
        },
    )


def propose_phase_tool(phases: Sequence[str]) -> ToolSpec:
    return ToolSpec(
        name=PROPOSE_PHASE,
        description="Propose that the work moves to another phase; the arbiter decides.",
        parameters={
            "type": "object",
            "properties": {
                "phase": {"type": "string", "enum": list(phases)},
                "reason": {"type": "string"},
            },
            "required": ["phase", "reason"],
        },
    )


def consultable_roles(state: RunState) -> list[str]:
    """Configured specialists the arbiter may consult, in configuration order."""
    allowed = set(state.allowed_specialists)
    return [
        role for role in state.specialists if role != ARBITER and (not allowed or role in allowed)
    ]


def has_responses(state: RunState) -> bool:
    """Whether the arbiter's thread holds specialist answers to synthesize."""
    return any(
        message.role == "tool"
        and (consult_role(message.tool_name or "") or message.tool_name == START_CONVERSATION)
        for message in state.arbiter_history
    )


def arbiter_tools(state: RunState) -> tuple[ToolSpec, ...]:
    """The tools the arbiter is offered in this state, relevant ones only."""
    roles = consultable_roles(state)
    tools = [consult_tool(state.specialists[role]) for role in roles]
    dialogue_roles = [role for role in roles if role != INTERPRETER]
    if state.policy.allow_model_to_model and len(dialogue_roles) >= 2:
        tools.append(conversation_tool(dialogue_roles, state.policy.max_models_per_conversation))
    if has_responses(state):
        tools.append(SYNTHESIZE_TOOL)
    tools.append(ESCALATE_TOOL)
    if INTERPRETER in state.specialists:
        tools.append(REINTERPRET_TOOL)
    if len(state.phases) > 1:
        tools.append(decide_phase_tool(state.phases))
    tools.append(FINAL_ANSWER_TOOL)
    return tuple(tools)


def specialist_tools(state: RunState) -> tuple[ToolSpec, ...]:
    return (propose_phase_tool(state.phases),) if len(state.phases) > 1 else ()


def all_arbiter_tools(state: RunState) -> tuple[ToolSpec, ...]:
    """Every arbiter tool that can run in this run, relevant now or not (for validation of calls
    an operator approved or edited later, and of calls repaired against the offered set)."""
    tools = list(arbiter_tools(state))
    if not any(tool.name == SYNTHESIZE for tool in tools):
        tools.insert(-1, SYNTHESIZE_TOOL)
    return tuple(tools)
