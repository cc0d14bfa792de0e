from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mmos_site.secret import secret_key_load


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)


def test_key_from_the_environment_wins_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 60)
    path = tmp_path / "secret_key"

    assert secret_key_load(path=path) == "k" * 60
    assert not path.exists()


@pytest.mark.usefixtures("no_env_key")
def test_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"

    first = secret_key_load(path=path)
    second = secret_key_load(path=path)

    assert first == second
    assert path.read_text() == first


@pytest.mark.usefixtures("no_env_key")
def test_generated_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"

    secret_key_load(path=path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.usefixtures("no_env_key")
def test_generated_key_is_strong_enough_for_the_deploy_check(tmp_path: Path) -> None:
    # Django's security.W009 wants at least 50 characters and 5 distinct ones.
    key = secret_key_load(path=tmp_path / "secret_key")

    assert len(key) >= 50
    assert len(set(key)) >= 5
    assert not key.startswith("django-insecure")


def test_blank_environment_key_falls_back_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret_key"
    path.write_text("stored-key-" + "x" * 50)
    monkeypatch.setenv("SECRET_KEY", "   ")

    assert secret_key_load(path=path) == "stored-key-" + "x" * 50


@pytest.mark.usefixtures("no_env_key")
def test_two_generations_in_different_files_differ(tmp_path: Path) -> None:
    assert secret_key_load(path=tmp_path / "a") != secret_key_load(path=tmp_path / "b")


def test_an_empty_key_file_is_a_clear_error_not_an_empty_key(tmp_path, monkeypatch):
    import pytest

    from mmos_site import secret

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(secret.time, "sleep", lambda _s: None)
    path = tmp_path / "secret_key"
    path.write_text("")

    with pytest.raises(RuntimeError, match="is empty"):
        secret.secret_key_load(path=path)
