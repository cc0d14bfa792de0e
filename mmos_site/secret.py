"""The secret key: from the environment, or generated once and kept in a local file."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def secret_key_load(*, path: Path) -> str:
    """``SECRET_KEY`` from the environment, else from ``path`` (created, mode 0600, if absent)."""
    from_env = os.environ.get("SECRET_KEY", "").strip()
    if from_env:
        return from_env
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _read(path: Path) -> str:
    # Another process may have created the file a moment ago and not written it yet.
    for _ in range(50):
        stored = path.read_text().strip()
        if stored:
            return stored
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it to have a new key made, or set SECRET_KEY.")
