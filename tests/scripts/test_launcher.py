from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts import embedded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the files that decide the install, plus installed npm packages."""
    for name in ("pyproject.toml", "package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    for package in embedded.NPM_PACKAGES:
        (tmp_path / "node_modules" / package).mkdir(parents=True)
        (tmp_path / "node_modules" / package / "package.json").write_text("{}")
    return tmp_path


def test_install_is_current_only_with_a_matching_stamp(project: Path, tmp_path: Path) -> None:
    stamp = tmp_path / "stamp"
    assert not embedded.install_is_current(project, stamp)

    stamp.write_text(embedded.install_fingerprint(project) + "\n")

    assert embedded.install_is_current(project, stamp)


@pytest.mark.parametrize("changed", ["pyproject.toml", "package-lock.json"])
def test_changing_a_dependency_file_asks_for_a_new_install(
    project: Path, tmp_path: Path, changed: str
) -> None:
    stamp = tmp_path / "stamp"
    stamp.write_text(embedded.install_fingerprint(project))

    with (project / changed).open("a") as fh:
        fh.write("\n")

    assert not embedded.install_is_current(project, stamp)


def test_deleted_node_modules_ask_for_a_new_install(project: Path, tmp_path: Path) -> None:
    stamp = tmp_path / "stamp"
    stamp.write_text(embedded.install_fingerprint(project))

    shutil.rmtree(project / "node_modules" / "htmx.org")

    assert not embedded.install_is_current(project, stamp)


def test_stack_environment_fills_defaults_and_ties_redis_to_its_port() -> None:
    env = embedded.stack_environment({"PATH": "/usr/bin", "REDIS_URL": "redis://elsewhere:1/0"})

    assert env["MMOS_PORT"] == "8000"
    assert env["MMOS_LLAMA_PORT"] == "8089"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6399/0"
    assert env["MMOS_LLAMA_URL"] == "http://127.0.0.1:8089/v1"
    assert Path(env["MMOS_VAR_DIR"]) == ROOT / "var"
    assert env["PATH"].split(os.pathsep)[0] == str(embedded.VENV_BIN)


def test_stack_environment_uses_the_ports_and_folder_it_is_given(tmp_path: Path) -> None:
    env = embedded.stack_environment(
        {"MMOS_PORT": "18000", "MMOS_REDIS_PORT": "16399", "MMOS_VAR_DIR": str(tmp_path)}
    )

    assert env["MMOS_PORT"] == "18000"
    assert env["REDIS_URL"] == "redis://127.0.0.1:16399/0"
    assert env["MMOS_VAR_DIR"] == str(tmp_path)


def test_the_bundled_model_and_redis_binary_are_found() -> None:
    model = embedded.llama_model_path()
    server = embedded.redis_server_path()

    assert model.suffix == ".gguf"
    assert model.stat().st_size > 10_000_000
    assert os.access(server, os.X_OK)


def test_a_port_in_use_is_reported_by_name(unused_tcp_port_factory: Callable[[], int]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = embedded.stack_environment(
            {
                "MMOS_PORT": str(unused_tcp_port_factory()),
                "MMOS_REDIS_PORT": str(unused_tcp_port_factory()),
                "MMOS_LLAMA_PORT": str(port),
            }
        )

        assert embedded.ports_in_use(env) == [f"MMOS_LLAMA_PORT={port}"]
