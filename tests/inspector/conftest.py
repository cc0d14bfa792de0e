"""Fixtures for the inspector's tests: named people and logged-in clients.

alice is an operator, bob an admin, charlie a logged-in stranger (in no group).
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import (
    AdminFactory,
    OperatorFactory,
    ServerFactory,
    SpecialistFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def plain_static_storage(settings: object) -> None:
    # Production uses the hashed-manifest storage, which needs collectstatic first.
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def alice(db):
    return OperatorFactory(username="alice")


@pytest.fixture
def bob(db):
    return AdminFactory(username="bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return _client_for(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return _client_for(bob)


@pytest.fixture
def charlie_client(charlie) -> Client:
    return _client_for(charlie)


@pytest.fixture
def specialists(db):
    """An arbiter and two specialists on one server, as a loaded configuration has them."""
    server = ServerFactory(name="ollama01")
    return {
        role: SpecialistFactory(role=role, server=server)
        for role in ("arbiter", "coding", "reasoning", "interpreter")
    }
