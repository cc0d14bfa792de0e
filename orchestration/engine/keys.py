"""Journal keys: every record a step writes is named deterministically, so a re-run finds it.

A step that runs again after a crash derives the same keys from ``state.step_number`` and the
call ids, looks them up, and reuses what was recorded instead of calling a model twice.

Scheme (``n`` is the step number, ``<call>`` a call key from ``call_key``)::

    arbiter:system:<sha12>          the arbiter's system prompt (recorded when its text changes)
    s<n>:arbiter:reply              the arbiter's reply
    s<n>:arbiter:reply:part<i>      a note-taking turn when a prompt had to be split
    s<n>:arbiter:feedback           what the engine tells the arbiter (repair diagnosis)
    s<n>:repair:...                 the model-assisted cascade stages of step n
    s<n>:classify:prompt / :reply   the task classification
    s<n>:call:<id>                  one tool call (its ToolCall record)
    <call>:query / :reply / :result a consult's question, the specialist's answer, the result
    <call>:t<i>:...                 turn i of a multi-model conversation
    <call>:escalation               the escalation or approval a call opened
"""

from __future__ import annotations

import hashlib


def step_prefix(step_number: int) -> str:
    return f"s{step_number}"


def arbiter_system(text: str) -> str:
    return f"arbiter:system:{text_hash(text)}"


def arbiter_reply(step_number: int) -> str:
    return f"s{step_number}:arbiter:reply"


def arbiter_feedback(step_number: int) -> str:
    return f"s{step_number}:arbiter:feedback"


def repair(step_number: int, stage: str) -> str:
    return f"s{step_number}:repair:{stage}"


def classify(step_number: int, part: str) -> str:
    return f"s{step_number}:classify:{part}"


def call_key(step_number: int, call_id: str) -> str:
    return f"s{step_number}:call:{call_id}"


def generated_call_id(step_number: int, index: int) -> str:
    """The id of a call the model sent without one (``s3c0``, ``s3c1``, ...)."""
    return f"s{step_number}c{index}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]
