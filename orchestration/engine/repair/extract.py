"""Finding call-shaped text in a reply: qwen's tags, FunctionGemma's marks, fenced or bare JSON.

Extraction fires only on text that is shaped as a call (DESIGN.md, "the repair cascade"):
- ``<tool_call>...</tool_call>`` blocks anywhere in the text, also a block whose opening tag
  was lost (text ending in ``</tool_call>`` with a JSON object before it) or never closed;
- FunctionGemma's ``<start_function_call>...<end_function_call>`` blocks anywhere;
- ```` ```json ```` fences, only when the fences are the whole reply;
- a bare JSON object or array, only when it is the whole reply.
Inside tags and FunctionGemma marks the text is a call attempt whatever it holds (``explicit``);
fenced and bare JSON count only if they turn out to name offered tools (the cascade decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestration.engine.repair.functiongemma import END, START, find_functiongemma_blocks
from orchestration.engine.repair.results import (
    EXTRACT_BARE_JSON,
    EXTRACT_FENCED_JSON,
    EXTRACT_FUNCTIONGEMMA,
    EXTRACT_TOOL_CALL_TAGS,
)

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"

_TAG = re.compile(r"</?tool_call>")
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]{0,20})[ \t]*\r?\n(.*?)```", re.DOTALL)
_FENCE_LANGUAGES = {"", "json", "json5", "jsonc", "tool_call", "tool_code"}
# Where a call object starts when the opening tag was lost: prefer `{"name"` over any `{`.
_CALL_START = re.compile(r"""\{\s*["']?name["']?\s*:""")


@dataclass(frozen=True)
class Candidate:
    """A piece of text that may hold a call: ``payload`` is JSON text or a FunctionGemma body."""

    stage: str
    raw: str
    payload: str
    explicit: bool
    closed: bool = True


@dataclass(frozen=True)
class Extraction:
    """What one extraction stage found: its candidates and the prose around them."""

    stage: str
    candidates: tuple[Candidate, ...]
    prose: str


def _call_json(block: str) -> str | None:
    """The JSON text of a call inside a tag block, skipping stray text before `{"name"`."""
    stripped = block.strip()
    if stripped.startswith(("{", "[")):
        return stripped
    match = _CALL_START.search(block)
    return block[match.start() :].strip() if match else None


def _tag_blocks(text: str) -> Extraction:
    # One pass over the tags (found once), so hostile text full of tags stays linear.
    tags = [(m.start(), m.end(), m.group() == OPEN_TAG) for m in _TAG.finditer(text)]
    candidates: list[Candidate] = []
    prose: list[str] = []
    position, index = 0, 0
    while index < len(tags):
        tag_start, tag_end, is_open = tags[index]
        following = tags[index + 1] if index + 1 < len(tags) else None
        if is_open:
            prose.append(text[position:tag_start])
            if following is not None and not following[2]:
                end, position, closed, index = following[0], following[1], True, index + 2
            else:  # never closed: the block runs to the next opening tag or the end
                end = following[0] if following is not None else len(text)
                position, closed, index = end, False, index + 1
            payload = _call_json(text[tag_end:end])
            if payload is None:  # prose that mentions the tag
                prose.append(text[tag_start:position])
            else:
                raw = text[tag_start:position]
                candidates.append(Candidate(EXTRACT_TOOL_CALL_TAGS, raw, payload, True, closed))
            continue
        # A closing tag with no opening tag: the call is the `{"name": ...` object before it.
        segment = text[position:tag_start]
        match = _CALL_START.search(segment)
        if match is None:
            prose.append(text[position:tag_end])
        else:
            prose.append(segment[: match.start()])
            payload = segment[match.start() :]
            candidates.append(
                Candidate(EXTRACT_TOOL_CALL_TAGS, payload + CLOSE_TAG, payload.strip(), True)
            )
        position, index = tag_end, index + 1
    prose.append(text[position:])
    return Extraction(EXTRACT_TOOL_CALL_TAGS, tuple(candidates), "".join(prose))


def _functiongemma_blocks(text: str) -> Extraction:
    blocks, prose = find_functiongemma_blocks(text)
    candidates = tuple(
        Candidate(EXTRACT_FUNCTIONGEMMA, START + body + (END if closed else ""), body, True, closed)
        for body, closed in blocks
        if "call:" in body
    )
    return Extraction(EXTRACT_FUNCTIONGEMMA, candidates, prose)


def _fenced_blocks(text: str) -> Extraction | None:
    candidates: list[Candidate] = []
    position = 0
    for match in _FENCE.finditer(text):
        if text[position : match.start()].strip():
            return None  # prose around the fence: an example, not a call
        if match.group(1).lower() not in _FENCE_LANGUAGES:
            return None
        candidates.append(
            Candidate(EXTRACT_FENCED_JSON, match.group(0), match.group(2).strip(), False)
        )
        position = match.end()
    if not candidates or text[position:].strip():
        return None
    return Extraction(EXTRACT_FENCED_JSON, tuple(candidates), "")


def extract_candidates(text: str) -> Extraction | None:
    """The first extraction whose shape matches ``text``; ``None`` when it is not call-shaped."""
    if START in text:
        found = _functiongemma_blocks(text)
        if found.candidates:
            return found
    if OPEN_TAG in text or CLOSE_TAG in text:
        found = _tag_blocks(text)
        if found.candidates:
            return found
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        candidate = Candidate(EXTRACT_BARE_JSON, stripped, stripped, False)
        return Extraction(EXTRACT_BARE_JSON, (candidate,), "")
    if stripped.startswith("```"):
        return _fenced_blocks(text)
    return None
