"""The deterministic stages of the repair cascade, run over one assistant reply.

``repair_reply`` reads native calls or, when there are none, extracts calls from text that is
shaped as a call; it repairs almost-JSON, unwraps arguments, coerces types the schema allows and
validates each call. Calls it cannot make valid come back with their errors, for the
model-assisted stages (constrained re-ask, interpreter) that the engine runs next.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.engine.repair.coerce import coerce_arguments
from orchestration.engine.repair.extract import Candidate, Extraction, extract_candidates
from orchestration.engine.repair.functiongemma import FunctionGemmaError, parse_functiongemma_call
from orchestration.engine.repair.json_repair import (
    MAX_JSON_DEPTH,
    JsonRepairError,
    json_depth,
    json_loads_tolerant,
)
from orchestration.engine.repair.results import (
    COERCE_TYPES,
    DISTRUST_LENGTH,
    DROPPED_CALL,
    EXTRACT_FUNCTIONGEMMA,
    JSON_REPAIR,
    NATIVE,
    UNWRAP_ARGUMENTS,
    VALIDATE,
    FoundCall,
    RepairResult,
    StageRecord,
)
from orchestration.engine.repair.validate import find_tool, unknown_tool_error, validate_arguments
from orchestration.engine.types import ChatMessage, ToolSpec

MAX_TEXT_LENGTH = 1_000_000
MAX_CALLS = 32  # more calls than this in one reply is a runaway model, not a plan
TOO_MANY_CALLS = f"more than {MAX_CALLS} calls in one reply; this one is not run"
LENGTH_ERROR = (
    # Reference §10.7: a call cut off at the limit may miss arguments or hold half of one.
    "the reply was cut off at the length limit (done_reason 'length'); the call may be "
    "incomplete and is not run"
)
_CALL_KEYS = {"name", "arguments", "parameters", "id", "type", "index"}
_FUNCTIONGEMMA_NAME = re.compile(r"\s*call:([^{]{1,200})")
_NAME_IN_TEXT = re.compile(r"""["']name["']\s*:\s*["']([^"'\n]{1,200})["']""")


@dataclass
class _Pending:
    """A call taken out of text, before it gets its index and is checked."""

    source: str
    raw: str
    name: str
    arguments: Any
    records: list[tuple[str, Any, Any, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def repair_reply(
    *, message: ChatMessage, tools: Sequence[ToolSpec], done_reason: str = ""
) -> RepairResult:
    """Run the deterministic stages over ``message`` (an assistant reply). Never raises."""
    content = message.content or ""
    trail: list[StageRecord] = []
    found: list[FoundCall] = []
    prose = content
    if message.tool_calls:
        natives = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
        trail.append(
            StageRecord(NATIVE, before=natives, after=None, note=f"{len(natives)} call(s)")
        )
        for part in message.tool_calls:
            pending = _Pending(NATIVE, "", part.name, part.arguments)
            found.append(_check(len(found), pending, tools, call_id=part.id))
    elif tools and len(content) <= MAX_TEXT_LENGTH:
        extraction = extract_candidates(content)
        if extraction is not None:
            pendings, verdict = _decode_extraction(extraction, tools)
            after = {"found": [c.raw for c in extraction.candidates], "prose": extraction.prose}
            trail.append(StageRecord(extraction.stage, before=content, after=after, note=verdict))
            if pendings:
                prose = extraction.prose.strip()
                for pending in pendings:
                    found.append(_check(len(found), pending, tools, call_id=None))
    for call in found:
        trail.extend(call.trail)
    distrusted = done_reason == "length"
    if distrusted:
        cut = [call.name for call in found if call.valid]
        trail.append(StageRecord(DISTRUST_LENGTH, before=cut, after=None, note=LENGTH_ERROR))
        found = [_distrust(call) for call in found]
    dropped = bool(tools) and not found and not content.strip() and not distrusted
    if dropped:
        trail.append(
            StageRecord(
                DROPPED_CALL,
                before=content,
                after=None,
                note=f"empty reply, no call, done_reason {done_reason!r}",
            )
        )
    return RepairResult(
        calls=tuple(call.to_part() for call in found if call.valid),
        found=tuple(found),
        text=prose,
        is_answer=not found and bool(prose.strip()),
        dropped_call=dropped,
        distrusted=distrusted,
        trail=tuple(trail),
    )


def _distrust(call: FoundCall) -> FoundCall:
    if not call.valid:
        return call
    return FoundCall(
        call.index,
        call.id,
        call.source,
        call.name,
        call.arguments,
        call.raw,
        (LENGTH_ERROR,),
        call.trail,
    )


def _decode_extraction(
    extraction: Extraction, tools: Sequence[ToolSpec]
) -> tuple[list[_Pending], str]:
    """The calls in the extraction, or none with the reason the text stays prose."""
    names = {tool.name for tool in tools}
    pendings: list[_Pending] = []
    for candidate in extraction.candidates:
        decoded = _decode_candidate(candidate)
        for pending in decoded:
            # Fenced or bare JSON is a call only when every object in it names an offered tool;
            # otherwise it is prose (an example, some data). Tags and marks are always attempts.
            if not candidate.explicit and pending.name not in names:
                return [], f"not a call: {_why_not(pending)}"
        pendings.extend(decoded)
    return pendings, f"{len(pendings)} call(s) found"


def _why_not(pending: _Pending) -> str:
    if pending.errors and not pending.name:
        return pending.errors[0]
    return f"{pending.name!r} is not an offered tool"


def _decode_candidate(candidate: Candidate) -> list[_Pending]:
    if candidate.stage == EXTRACT_FUNCTIONGEMMA:
        return [_decode_functiongemma(candidate)]
    try:
        value, fixes = json_loads_tolerant(candidate.payload)
    except (JsonRepairError, ValueError) as exc:
        named = _NAME_IN_TEXT.search(candidate.payload)
        name = named.group(1).strip() if named else ""
        return [
            _Pending(
                candidate.stage,
                candidate.raw,
                name,
                candidate.payload,
                errors=[f"the call is not valid JSON: {exc}"],
            )
        ]
    repair = [(JSON_REPAIR, candidate.payload, value, "; ".join(fixes))] if fixes else []
    items = value if isinstance(value, list) and value else [value]
    pendings = [_unwrap(item, candidate, repair) for item in items]
    if not candidate.closed:
        for pending in pendings:
            pending.errors.append("the call was never closed (</tool_call> missing)")
    return pendings


def _decode_functiongemma(candidate: Candidate) -> _Pending:
    errors = [] if candidate.closed else ["the call was never closed (<end_function_call> missing)"]
    try:
        name, arguments = parse_functiongemma_call(candidate.payload)
    except FunctionGemmaError as exc:
        named = _FUNCTIONGEMMA_NAME.match(candidate.payload)
        name = named.group(1).strip() if named else ""
        return _Pending(
            candidate.stage, candidate.raw, name, candidate.payload, errors=[*errors, str(exc)]
        )
    return _Pending(candidate.stage, candidate.raw, name, arguments, errors=errors)


def _unwrap(item: Any, candidate: Candidate, repair: list) -> _Pending:
    """Take name and arguments out of a decoded call object, in the shapes models write."""
    pending = _Pending(candidate.stage, candidate.raw, "", item, records=list(repair))
    if not isinstance(item, dict):
        pending.errors.append("a call must be a JSON object with 'name' and 'arguments'")
        return pending
    notes: list[str] = []
    call = item
    if isinstance(item.get("function"), dict) and set(item) <= {"function", "id", "type", "index"}:
        call = item["function"]
        notes.append("took the call out of an OpenAI-style 'function' object")
    name = call.get("name")
    if not isinstance(name, str) or not name.strip():
        pending.errors.append("the call has no 'name'")
        return pending
    pending.name = name.strip()
    extra = sorted(set(call) - _CALL_KEYS)
    if "arguments" in call:
        arguments = call["arguments"]
    elif "parameters" in call:
        arguments = call["parameters"]
        notes.append("arguments given under 'parameters'")
    else:
        arguments = {key: call[key] for key in extra} if extra else {}
        notes.append("no 'arguments' given" + (f"; took the keys {extra}" if extra else ""))
    if extra and ("arguments" in call or "parameters" in call):
        pending.errors.append(f"unexpected keys beside the arguments: {extra}")
    elif extra:
        pending.errors.append(f"arguments must be under 'arguments', found keys {extra}")
    if arguments is None:
        arguments = {}
        notes.append("arguments were null")
    if isinstance(arguments, str):
        try:
            arguments, fixes = json_loads_tolerant(arguments)
            notes.append(
                "arguments given as a JSON string" + (f" ({'; '.join(fixes)})" if fixes else "")
            )
        except (JsonRepairError, ValueError) as exc:
            pending.errors.append(f"the arguments string is not valid JSON: {exc}")
    pending.arguments = arguments
    if notes:
        after = {"name": pending.name, "arguments": arguments}
        pending.records.append((UNWRAP_ARGUMENTS, item, after, "; ".join(notes)))
    return pending


def _call_id(index: int, raw: str, name: str) -> str:
    digest = hashlib.sha256(f"{index}\x00{name}\x00{raw}".encode("utf-8", "replace")).hexdigest()
    return f"call_{digest[:8]}"


def _check(
    index: int, pending: _Pending, tools: Sequence[ToolSpec], call_id: str | None
) -> FoundCall:
    """Name check, argument decoding, coercion and validation of one call, each recorded."""
    records = [
        StageRecord(stage, before, after, note, call=index)
        for stage, before, after, note in pending.records
    ]
    errors = list(pending.errors)
    arguments = pending.arguments
    if index >= MAX_CALLS:
        return FoundCall(
            index,
            call_id or _call_id(index, pending.raw, pending.name),
            pending.source,
            pending.name,
            "(not kept: too many calls)",
            pending.raw,
            (TOO_MANY_CALLS,),
            (),
        )
    tool = find_tool(pending.name, tools)
    if tool is None and (pending.name or not errors):
        errors.append(unknown_tool_error(pending.name, tools))
    if pending.source == NATIVE and isinstance(arguments, str):
        try:  # some servers hand arguments over as a JSON string
            decoded, fixes = json_loads_tolerant(arguments)
            records.append(
                StageRecord(
                    JSON_REPAIR,
                    arguments,
                    decoded,
                    "; ".join(["arguments given as a JSON string", *fixes]),
                    index,
                )
            )
            arguments = decoded
        except (JsonRepairError, ValueError) as exc:
            errors.append(f"the arguments are not valid JSON: {exc}")
    if isinstance(arguments, dict | list) and json_depth(arguments) > MAX_JSON_DEPTH:
        errors.append(f"the arguments are nested deeper than {MAX_JSON_DEPTH} levels")
        arguments = "(not kept: nested too deeply)"
    elif tool is not None and (isinstance(arguments, dict) or not errors):
        if isinstance(arguments, dict):
            coerced, changes = coerce_arguments(arguments, tool.parameters)
            if changes:
                note = "; ".join(change.describe() for change in changes)
                records.append(StageRecord(COERCE_TYPES, arguments, coerced, note, index))
                arguments = coerced
        errors.extend(validate_arguments(arguments, tool.parameters))
        verdict = {"valid": not errors, "errors": errors}
        note = f"{len(errors)} error(s)" if errors else ""
        records.append(StageRecord(VALIDATE, arguments, verdict, note, index))
    return FoundCall(
        index=index,
        id=call_id or _call_id(index, pending.raw, pending.name),
        source=pending.source,
        name=pending.name,
        arguments=arguments,
        raw=pending.raw,
        errors=tuple(errors),
        trail=tuple(records),
    )
