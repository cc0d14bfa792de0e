from __future__ import annotations

import pytest

from orchestration.engine.repair.extract import extract_candidates
from orchestration.engine.repair.results import (
    EXTRACT_BARE_JSON,
    EXTRACT_FENCED_JSON,
    EXTRACT_FUNCTIONGEMMA,
    EXTRACT_TOOL_CALL_TAGS,
)

CALL = '{"name": "get_weather", "arguments": {"city": "Tokyo"}}'


def payloads(text: str) -> list[str]:
    found = extract_candidates(text)
    assert found is not None
    return [candidate.payload for candidate in found.candidates]


def test_tool_call_tags_yield_their_json_and_keep_the_prose_around():
    text = f"Let me look.\n<tool_call>\n{CALL}\n</tool_call>\nAfter."
    found = extract_candidates(text)
    assert found.stage == EXTRACT_TOOL_CALL_TAGS
    assert [c.payload for c in found.candidates] == [CALL]
    assert found.candidates[0].explicit
    assert found.prose == "Let me look.\n\nAfter."


def test_several_tag_blocks_are_several_candidates():
    text = f'<tool_call>\n{CALL}\n</tool_call>\n<tool_call>\n{{"name": "b"}}\n</tool_call>'
    assert payloads(text) == [CALL, '{"name": "b"}']


def test_a_lost_opening_tag_takes_the_call_object_before_the_closing_tag():
    found = extract_candidates(f"侴\n{CALL}\n</tool_call>\n")
    assert [c.payload for c in found.candidates] == [CALL]
    assert found.prose.strip() == "侴"


def test_a_lost_opening_tag_prefers_the_name_object_over_an_earlier_brace():
    found = extract_candidates(f"Set {{x}} first. {CALL}</tool_call>")
    assert [c.payload for c in found.candidates] == [CALL]


def test_an_unclosed_tag_block_runs_to_the_next_tag_or_the_end():
    found = extract_candidates(f'<tool_call>{{"name": "a"}}<tool_call>{CALL}')
    assert [(c.payload, c.closed) for c in found.candidates] == [
        ('{"name": "a"}', False),
        (CALL, False),
    ]


def test_stray_text_inside_the_tags_before_the_call_is_skipped():
    assert payloads(f"<tool_call>json\n{CALL}</tool_call>") == [CALL]


def test_functiongemma_marks_are_found():
    found = extract_candidates(
        "<start_function_call>call:get_weather{city:<escape>T<escape>}<end_function_call>"
    )
    assert found.stage == EXTRACT_FUNCTIONGEMMA
    assert found.candidates[0].payload == "call:get_weather{city:<escape>T<escape>}"
    assert found.candidates[0].explicit


def test_a_reply_that_is_only_a_json_fence_is_fenced_json():
    found = extract_candidates(f"```json\n{CALL}\n```")
    assert found.stage == EXTRACT_FENCED_JSON
    assert [c.payload for c in found.candidates] == [CALL]
    assert not found.candidates[0].explicit


def test_several_fences_and_a_plain_fence_count_too():
    assert payloads(f"```\n{CALL}\n```\n\n```JSON\n{CALL}\n```") == [CALL, CALL]


def test_a_reply_that_is_only_a_json_object_is_bare_json():
    found = extract_candidates(f"  {CALL}\n")
    assert found.stage == EXTRACT_BARE_JSON
    assert [c.payload for c in found.candidates] == [CALL]


def test_bare_json_holding_a_fence_in_a_string_is_still_bare_json():
    text = '{"name": "write", "arguments": {"code": "```py\\nprint(1)\\n```"}}'
    assert extract_candidates(text).stage == EXTRACT_BARE_JSON


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The weather in Tokyo is sunny.",
        f"Here is an example call: {CALL} that you could make.",
        f"Example:\n```json\n{CALL}\n```\nThat is how you call it.",
        f"Intro first:\n```json\n{CALL}\n```",
        "```python\nprint({'name': 'x'})\n```",
        "Wrap calls in <tool_call> tags when you use tools.",
        "A closing </tool_call> tag ends a call; {braces} alone are not one.",
        "Models like <start_function_call> markers.",
    ],
)
def test_text_not_shaped_like_a_call_is_not_extracted(text):
    assert extract_candidates(text) is None
