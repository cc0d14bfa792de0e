"""Live preview of a prompt template, rendered by the engine's own renderer.

The sample context is what an admin types (JSON); names the body uses but the sample lacks get a
visible stand-in, so a preview shows every section's place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from orchestration.engine.prompts import render

# The engine's placeholder syntax (orchestration.engine.prompts): ``{name}``, lower-case.
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

SAMPLE_SECTIONS: dict[str, str] = {
    "task": "Write a Python function that reverses a string, with tests.",
    "phase": "planning",
    "phases": "planning, implementation, review",
    "role": "You coordinate specialist models and decide who answers.",
    "routing": "Rule 1: task.type == 'code_generation' → coding specialist.",
    "instructions": "Consult specialists through your tools; finish with final_answer.",
    "context": "(earlier messages of this conversation)",
    "specialists": "coding, reasoning, analysis",
}


def placeholder_names(body: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(body)))


def sample_context_for(body: str) -> str:
    """A JSON sample context with a value for every section ``body`` names."""
    sample = {name: SAMPLE_SECTIONS.get(name, f"<{name}>") for name in placeholder_names(body)}
    return json.dumps(sample, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Preview:
    text: str
    error: str = ""
    missing: tuple[str, ...] = ()


def prompt_preview(body: str, sample_json: str) -> Preview:
    """``body`` rendered by the engine with the sections in ``sample_json``."""
    try:
        sections = json.loads(sample_json or "{}")
    except json.JSONDecodeError as exc:
        return Preview(text="", error=f"The sample context is not valid JSON: {exc.msg}.")
    if not isinstance(sections, dict):
        return Preview(text="", error="The sample context must be a JSON object.")
    missing = tuple(name for name in placeholder_names(body) if name not in sections)
    return Preview(text=render(body, sections), missing=missing)
