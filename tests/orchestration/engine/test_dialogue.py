"""start_multi_model_conversation: direct and arbiter-mediated, with what each one saw."""

from __future__ import annotations

import json

from orchestration.engine.run import step_run
from orchestration.engine.state import Policy
from orchestration.providers.scripted import tool_call_message as call
from tests.orchestration.engine.doubles import design_state

DIRECT = Policy(arbiter_reviews_all=False)


def talk(participants, *, mode, turns):
    return call(
        "start_multi_model_conversation",
        {"participants": participants, "topic": "tabs or spaces", "max_turns": turns, "mode": mode},
        call_id="d",
    )


def thread(journal, role):
    return [(m.role, m.content) for m in journal.thread(f"dialogue:s2:call:d:{role}")]


def result(journal):
    return json.loads(journal.record("s2:call:d:result").content)


async def test_direct_mode_each_participant_keeps_a_thread_and_sees_the_others(journal, models):
    models.clients["arbiter"].enqueue(talk(["coding", "reasoning"], mode="direct", turns=3))
    models.clients["coding"].enqueue("Spaces.", "Fine, spaces it is.")
    models.clients["reasoning"].enqueue("Tabs are smaller.")

    await step_run("arbiter", design_state(policy=DIRECT), journal, models, {})

    coding, reasoning = thread(journal, "coding"), thread(journal, "reasoning")
    assert [role for role, _ in coding] == ["system", "user", "assistant", "user", "assistant"]
    assert coding[3] == ("user", "[reasoning]: Tabs are smaller.")
    assert reasoning[1:] == [
        ("user", "[coding]: Spaces."),
        ("assistant", "Tabs are smaller."),
        ("user", "[coding]: Fine, spaces it is."),
    ]
    summary = result(journal)
    assert (summary["mode"], summary["turns"], summary["success"]) == ("direct", 3, True)
    assert summary["summary"].splitlines()[1] == "reasoning: Tabs are smaller."
    assert models.clients["arbiter"].calls[1:] == []  # no reviews in direct mode
    assert (
        models.clients["reasoning"]
        .calls[0]
        .messages[0]
        .content.startswith("You are the reasoning specialist in a conversation with coding")
    )


async def _mediated(journal, models, review: dict) -> None:
    models.clients["arbiter"].enqueue(
        talk(["coding", "reasoning", "analysis"], mode="arbiter_mediated", turns=1),
        json.dumps(review),
    )
    models.clients["coding"].enqueue("Spaces. Also my API key is hunter2.")
    await step_run("arbiter", design_state(), journal, models, {})


async def test_mediated_pass_delivers_the_original_to_everyone(journal, models):
    await _mediated(journal, models, {"action": "pass"})

    delivered = journal.record("s2:call:d:t1:to:reasoning")
    assert delivered.content == "[coding]: Spaces. Also my API key is hunter2."
    assert delivered.review == {"action": "pass", "text": "", "redirect_to": "", "withheld": []}
    review_request = models.clients["arbiter"].calls[1]
    assert review_request.tools == ()
    assert review_request.response_format["properties"]["action"]["enum"] == [
        "pass",
        "modify",
        "redirect",
        "filter",
    ]


async def test_mediated_modify_delivers_the_arbiters_text_and_keeps_the_original(journal, models):
    await _mediated(journal, models, {"action": "modify", "text": "Use spaces (PEP 8)."})

    for role in ("reasoning", "analysis"):
        delivered = journal.record(f"s2:call:d:t1:to:{role}")
        assert delivered.content == "[coding]: Use spaces (PEP 8)."
        assert delivered.original_content == "Spaces. Also my API key is hunter2."


async def test_mediated_redirect_delivers_to_one_participant_and_withholds_from_the_rest(
    journal, models
):
    await _mediated(journal, models, {"action": "redirect", "redirect_to": "analysis"})

    assert journal.record("s2:call:d:t1:to:analysis").content.startswith("[coding]: Spaces.")
    assert "s2:call:d:t1:to:reasoning" not in journal.messages
    entry = result(journal)["transcript"][0]
    assert entry["delivered"] == {"reasoning": None, "analysis": entry["text"]}
    assert entry["withheld"] == {"reasoning": ["the whole message (redirected to analysis)"]}


async def test_mediated_filter_records_what_was_withheld_per_participant(journal, models):
    await _mediated(
        journal,
        models,
        {"action": "filter", "text": "Spaces.", "withheld": ["an API key"]},
    )

    delivered = journal.record("s2:call:d:t1:to:reasoning")
    assert delivered.content == "[coding]: Spaces."
    assert delivered.withheld == ("an API key",)
    assert "hunter2" not in thread(journal, "analysis")[-1][1]


async def test_an_unreadable_review_delivers_unchanged_and_says_why(journal, models):
    models.clients["arbiter"].enqueue(
        talk(["coding", "reasoning"], mode="arbiter_mediated", turns=1), "looks fine to me"
    )
    models.clients["coding"].enqueue("Spaces.")

    await step_run("arbiter", design_state(), journal, models, {})

    review = journal.record("s2:call:d:t1:to:reasoning").review
    assert review["action"] == "pass"
    assert "unreadable" in review["note"]


async def test_arbiter_reviews_all_makes_a_direct_request_mediated(journal, models):
    models.clients["arbiter"].enqueue(
        talk(["coding", "reasoning"], mode="direct", turns=1), '{"action": "pass"}'
    )
    models.clients["coding"].enqueue("Spaces.")

    await step_run("arbiter", design_state(), journal, models, {})

    summary = result(journal)
    assert (summary["mode"], summary["mode_requested"]) == ("arbiter_mediated", "direct")
    assert len(models.clients["arbiter"].calls) == 2


async def test_model_to_model_conversations_can_be_switched_off(journal, models):
    state = design_state(policy=Policy(allow_model_to_model=False))
    models.clients["arbiter"].enqueue(talk(["coding", "reasoning"], mode="direct", turns=1))
    nobody_can_fix(models)

    await step_run("arbiter", state, journal, models, {})

    offered = [t.name for t in models.clients["arbiter"].calls[0].tools]
    assert "start_multi_model_conversation" not in offered
    [record] = journal.tool_calls.values()
    assert record.status == "invalid"
    assert "unknown tool 'start_multi_model_conversation'" in record.error
    assert models.clients["coding"].calls == []


async def test_more_participants_than_max_models_is_invalid(journal, models):
    state = design_state(policy=Policy(max_models_per_conversation=2, arbiter_reviews_all=False))
    models.clients["arbiter"].enqueue(
        talk(["coding", "reasoning", "analysis"], mode="direct", turns=1)
    )
    nobody_can_fix(models)

    await step_run("arbiter", state, journal, models, {})

    [record] = journal.tool_calls.values()
    assert record.status == "invalid"
    assert "$.participants: ['coding', 'reasoning', 'analysis'] is too long" in record.error
    assert models.clients["coding"].calls == []


def nobody_can_fix(models) -> None:
    """The interpreter and the re-ask give up; diagnosis advises the arbiter instead."""
    models.clients["interpreter"].enqueue("I cannot tell.")
    models.clients["arbiter"].enqueue("I cannot tell either.")
    models.clients["reasoning"].enqueue(
        call("suggest_alternative_approach", {"approach": "consult one specialist"})
    )
