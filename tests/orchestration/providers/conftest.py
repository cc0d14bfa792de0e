"""Fixtures for the provider tests: the fake Ollama server (shared with other suites)."""

from __future__ import annotations

from tests.fakes.fixtures import fake_ollama, fake_ollama_factory, refused_url

__all__ = ["fake_ollama", "fake_ollama_factory", "refused_url"]
