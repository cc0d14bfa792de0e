"""Prompt templates: rendering with named sections, lookup, token estimates and splitting.

A template body names sections as ``{name}`` (lower-case letters, digits, ``_``). A section that
renders empty disappears with its line, and runs of blank lines collapse to one, so a template
reads the same whichever sections a prompt has. Literal JSON braces such as ``{"name": ...}`` are
never placeholders (a placeholder holds no quotes or spaces).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestration.engine.prompt_defaults import DEFAULT_TEMPLATES
from orchestration.engine.types import ChatMessage, ToolSpec

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")

# Conservative: real tokenizers give ~4 characters per token for English, fewer for code and
# other scripts; we count 3 so a prompt we think fits does fit.
CHARS_PER_TOKEN = 3
PER_MESSAGE_TOKENS = 8  # role markers and separators of a chat template
PER_REQUEST_TOKENS = 16
# The server counted fewer than this share of our estimate: part of the prompt was cut.
TRUNCATION_RATIO = 0.4
TRUNCATION_MIN_GAP = 128


def render(body: str, sections: Mapping[str, object]) -> str:
    """``body`` with each ``{name}`` replaced by ``sections[name]`` (missing names are empty).

    A line that held only empty placeholders is removed; blank lines never pile up.
    """
    lines: list[str] = []
    for line in body.splitlines():
        names = _PLACEHOLDER.findall(line)
        filled = _PLACEHOLDER.sub(lambda match: _text(sections.get(match.group(1))), line)
        if names and not filled.strip() and not _PLACEHOLDER.sub("", line).strip():
            continue  # the line was nothing but empty sections
        lines.append(filled.rstrip())
    text = "\n".join(lines)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    return str(value).strip("\n")


def template_candidates(key: str, *, phase: str = "", model: str = "") -> list[str]:
    """Keys tried for ``key``, most specific first: phase and model, model, phase, plain."""
    keys = []
    if phase and model:
        keys.append(f"{key}.{phase}.{model}")
    if model:
        keys.append(f"{key}.{model}")
    if phase:
        keys.append(f"{key}.{phase}")
    keys.append(key)
    return keys


def template_lookup(
    templates: Mapping[str, str], key: str, *, phase: str = "", model: str = ""
) -> str:
    """The body for ``key``: an override from ``templates`` (phase/model specific first), then
    the built-in default. Raises ``KeyError`` when neither knows the key."""
    candidates = template_candidates(key, phase=phase, model=model)
    for candidate in candidates:
        if candidate in templates:
            return templates[candidate]
    for candidate in candidates:
        if candidate in DEFAULT_TEMPLATES:
            return DEFAULT_TEMPLATES[candidate]
    raise KeyError(f"no prompt template {key!r}")


def render_template(
    templates: Mapping[str, str],
    key: str,
    sections: Mapping[str, object],
    *,
    phase: str = "",
    model: str = "",
) -> str:
    return render(template_lookup(templates, key, phase=phase, model=model), sections)


# --- token estimates --------------------------------------------------------------------------


def estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_tokens(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
    """A conservative prompt-token estimate: text/3, a per-message overhead and the tools JSON."""
    total = PER_REQUEST_TOKENS
    for message in messages:
        total += PER_MESSAGE_TOKENS + estimate_text_tokens(message.content)
        for call in message.tool_calls:
            total += estimate_text_tokens(call.name + json.dumps(call.arguments))
    if tools:
        total += estimate_text_tokens(json.dumps([tool.to_wire() for tool in tools]))
    return total


def output_reserve(context_window: int, num_predict: int | None = None) -> int:
    """Tokens kept free for the reply."""
    if num_predict and num_predict > 0:
        return min(num_predict, context_window // 2)
    return min(1024, context_window // 4)


def truncation_suspected(
    estimated: int | None, actual: int | None, context_window: int | None = None
) -> bool:
    """Whether the server likely cut the prompt silently (ollama-api.md §8.4, §10.8).

    True when the server counted far fewer prompt tokens than our conservative estimate, or
    when our estimate was beyond the window and the server still answered.
    """
    if estimated is None or actual is None or estimated <= 0:
        return False
    if context_window and estimated > context_window and actual <= context_window:
        return True
    return actual < estimated * TRUNCATION_RATIO and estimated - actual >= TRUNCATION_MIN_GAP


# --- splitting --------------------------------------------------------------------------------


def split_text(text: str, max_tokens: int) -> list[str]:
    """``text`` in consecutive pieces of at most ``max_tokens`` (estimated) each.

    Cuts at paragraph breaks, then line breaks, then spaces, and only mid-word as a last resort.
    """
    limit = max(1, max_tokens) * CHARS_PER_TOKEN
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 4:
                cut += len(separator)
                break
            cut = -1
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:]
    if rest.strip() or not pieces:
        pieces.append(rest.strip())
    return [piece for piece in pieces if piece] or [""]


@dataclass(frozen=True)
class PromptSplit:
    """How an over-long prompt is split: the message that was cut and its pieces."""

    index: int
    pieces: tuple[str, ...]


def plan_split(
    messages: Sequence[ChatMessage],
    tools: Sequence[ToolSpec],
    budget: int,
    *,
    notes_allowance: int,
) -> PromptSplit | None:
    """Where to split ``messages`` so each turn fits ``budget`` tokens, or ``None`` when they
    fit already or no split can help (the longest user/tool message is not what is too big)."""
    if estimate_tokens(messages, tools) <= budget:
        return None
    candidates = [
        (len(message.content), index)
        for index, message in enumerate(messages)
        if message.role in ("user", "tool")
    ]
    if not candidates:
        return None
    _, index = max(candidates)
    others = [message for position, message in enumerate(messages) if position != index]
    room = budget - estimate_tokens(others, tools) - notes_allowance - PER_MESSAGE_TOKENS
    if room < 64:
        return None
    pieces = split_text(messages[index].content, room)
    if len(pieces) < 2:
        return None
    return PromptSplit(index=index, pieces=tuple(pieces))
