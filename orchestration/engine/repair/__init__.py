"""The deterministic stages of the tool-call repair cascade (DESIGN.md, "the repair cascade").

``repair_reply(message=..., tools=..., done_reason=...) -> RepairResult``: native calls
validated; calls written as text extracted (qwen tags, FunctionGemma marks, fenced or bare
JSON); almost-JSON repaired; argument types the schema allows coerced; each stage recorded.
Calls it cannot make valid are returned with their errors for the model-assisted stages.
"""

from __future__ import annotations

from orchestration.engine.repair.cascade import MAX_CALLS, repair_reply
from orchestration.engine.repair.results import (
    COERCE_TYPES,
    DISTRUST_LENGTH,
    DROPPED_CALL,
    EXTRACT_BARE_JSON,
    EXTRACT_FENCED_JSON,
    EXTRACT_FUNCTIONGEMMA,
    EXTRACT_TOOL_CALL_TAGS,
    JSON_REPAIR,
    NATIVE,
    UNWRAP_ARGUMENTS,
    VALIDATE,
    FoundCall,
    RepairResult,
    StageRecord,
)

__all__ = [
    "COERCE_TYPES",
    "DISTRUST_LENGTH",
    "DROPPED_CALL",
    "EXTRACT_BARE_JSON",
    "EXTRACT_FENCED_JSON",
    "EXTRACT_FUNCTIONGEMMA",
    "EXTRACT_TOOL_CALL_TAGS",
    "JSON_REPAIR",
    "MAX_CALLS",
    "NATIVE",
    "UNWRAP_ARGUMENTS",
    "VALIDATE",
    "FoundCall",
    "RepairResult",
    "StageRecord",
    "repair_reply",
]
