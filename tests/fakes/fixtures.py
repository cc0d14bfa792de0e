"""Pytest fixtures for the fake Ollama server, enabled for every suite by ``pytest_plugins`` in
the root conftest: ``fake_ollama``, ``fake_ollama_factory``, ``refused_url``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fakes.ollama import FakeOllama, closed_port_url


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A fresh fake Ollama on a free loopback port, stopped after the test."""
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_ollama_factory() -> Iterator[Callable[[], FakeOllama]]:
    """Start as many fake servers as a test needs (failover, server choice)."""
    started: list[FakeOllama] = []

    def make() -> FakeOllama:
        fake = FakeOllama().start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens."""
    return closed_port_url()
