"""Fixtures for the engine's tests: an in-memory journal and scripted models per role."""

from __future__ import annotations

import pytest

from tests.orchestration.engine.doubles import MemoryJournal, ScriptedModels, scripted_models


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def models() -> ScriptedModels:
    return scripted_models()
