"""The orchestration engine: pure Python, no Django imports.

It decides what happens next in a conversation, talks to models only through the
``ModelClient`` protocol (``client``) and writes only through the ``RunJournal`` port (``ports``).

Entry point: ``run.step_run(kind, state, journal, models, payload) -> StepOutcome``.

Modules:
- ``run``: the step kinds ``classify``, ``arbiter``, ``tool``;
- ``arbiter``: one arbiter turn; ``dispatch``: running its calls and choosing the next move;
- ``execute``: the gates (limits, repetition, binding routing, max models, approval) and tools;
- ``consult``, ``dialogue``, ``actions``: what the arbiter's tools do;
- ``cascade`` + ``cascade_stages`` + ``repair``: turning a reply into valid calls;
- ``interpreter``, ``diagnosis``: the model-assisted repair stages;
- ``classify``: task classification and routing rules (``conditions``);
- ``prompts``, ``prompt_defaults``, ``builder``: templates, estimates, splitting, the arbiter
  prompt; ``tools``: the JSON-schema tools models see;
- ``modelcall``: every model call, looked up in the journal first, streamed, recorded;
- ``keys``: the journal key scheme; ``limits``: budgets and repeated calls.
"""
