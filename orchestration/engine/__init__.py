"""The orchestration engine: pure Python, no Django imports.

It decides what happens next in a conversation and talks to models only through
the ``ModelClient`` protocol (``orchestration.engine.client``).
"""
