"""Cut a byte stream into NDJSON lines or SSE ``data`` payloads.

The HTTP module reads whatever arrives per network read and feeds it here, so the per-call
deadline timer is armed once per read rather than once per line.
"""

from __future__ import annotations

from typing import Literal

Framing = Literal["ndjson", "sse"]
SSE_DONE = b"[DONE]"


class Framer:
    """``feed(chunk)`` returns the complete frames so far; ``end()`` returns what is left."""

    def __init__(self, framing: Framing) -> None:
        self.sse = framing == "sse"
        self._buffer = b""
        self._data: list[bytes] = []  # SSE data lines of the event being read

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._buffer + chunk).split(b"\n")
        self._buffer = lines.pop()
        return self._frames(lines)

    def end(self) -> list[bytes]:
        lines, self._buffer = [self._buffer], b""
        frames = self._frames(lines)
        if self.sse and self._data:
            frames.append(b"\n".join(self._data))
            self._data = []
        return frames

    def _frames(self, lines: list[bytes]) -> list[bytes]:
        if not self.sse:
            return [line for line in lines if line.strip()]
        frames = []
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                if self._data:
                    frames.append(b"\n".join(self._data))
                    self._data = []
            elif line.startswith(b"data:"):
                self._data.append(line[5:].lstrip(b" "))
            # "event:", "id:", "retry:" and ":" comment lines carry nothing we use
        return frames
