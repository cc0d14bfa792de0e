from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def _run(**kwargs: str) -> str:
    out = io.StringIO()
    call_command("mmos_ensure_admin", stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMOS_ADMIN_USER", raising=False)
    monkeypatch.delenv("MMOS_ADMIN_PASSWORD", raising=False)


def test_generated_password_is_printed_once_and_logs_in() -> None:
    first = _run()
    second = _run()

    password = re.search(r"with password: (\S+)", first).group(1)
    assert authenticate(username="admin", password=password) is not None
    assert password not in second
    assert "'admin'" in second


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMOS_ADMIN_USER", "charlie")
    monkeypatch.setenv("MMOS_ADMIN_PASSWORD", "charlie-long-passphrase")

    output = _run()

    assert "charlie-long-passphrase" not in output
    assert "password from MMOS_ADMIN_PASSWORD" in output
    assert authenticate(username="charlie", password="charlie-long-passphrase") is not None


def test_username_option_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMOS_ADMIN_USER", "charlie")

    output = _run(username="dora")

    assert "'dora'" in output


def test_blank_username_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="must not be empty"):
        _run(username=" ")
