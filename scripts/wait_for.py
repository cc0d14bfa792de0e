"""Wait until the services a process needs answer, then become that process.

Used by ``Procfile.embedded``: the Celery worker, beat and Daphne start in the same instant as
Redis and the llama.cpp server, and would otherwise crash or spin on connection errors while
those are still loading. The command is started with ``exec`` so the supervisor's PID is the
real process and a stop signal reaches it directly.

    python scripts/wait_for.py --redis redis://127.0.0.1:6399/0 \
        --http http://127.0.0.1:8089/v1/models --timeout 120 -- celery -A mmos_site worker

Standard library only: it runs before anything else is known to work.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

POLL_SECONDS = 0.25


def redis_answers(url: str, *, timeout: float = 1.0) -> bool:
    """Return True when the Redis server at ``url`` replies ``+PONG`` to a ``PING``."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
        ) as sock:
            sock.sendall(b"PING\r\n")
            # A Redis that is still loading its append-only file answers -LOADING, not +PONG.
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_answers(url: str, *, timeout: float = 1.0) -> bool:
    """Return True when ``GET url`` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL from our own config)
            return 200 <= response.status < 300
    except (OSError, urllib.error.URLError):
        return False


def wait_until_ready(*, redis_urls: list[str], http_urls: list[str], timeout: float) -> list[str]:
    """Poll every service until all answer or ``timeout`` seconds pass.

    Returns the services that still do not answer (empty when all are ready).
    """
    checks = [(url, redis_answers) for url in redis_urls] + [
        (url, http_answers) for url in http_urls
    ]
    deadline = time.monotonic() + timeout
    while True:
        pending = [url for url, check in checks if not check(url)]
        if not pending or time.monotonic() >= deadline:
            return pending
        checks = [(url, check) for url, check in checks if url in pending]
        time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", action="append", default=[], metavar="URL")
    parser.add_argument("--http", action="append", default=[], metavar="URL")
    parser.add_argument("--timeout", type=float, default=180.0, metavar="SECONDS")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    pending = wait_until_ready(redis_urls=args.redis, http_urls=args.http, timeout=args.timeout)
    if pending:
        print(f"wait_for: gave up after {args.timeout:g}s, no answer from: {', '.join(pending)}")
        return 1
    if not command:
        return 0
    sys.stdout.flush()
    os.execvp(command[0], command)  # noqa: S606 (the command line comes from our Procfile)
    return 1  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main())
