"""The HTTP/1.1 side of the fake Ollama server: one thread per connection, keep-alive, chunked
streaming, and the fault behaviours a ``Reply`` asks for (hang, reset, drip, cut, latency)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.fakes.replies import Reply

if TYPE_CHECKING:
    from tests.fakes.ollama import FakeOllama

CHAT_PATHS = frozenset({"/api/chat", "/v1/chat/completions"})


def abort_connection(conn: socket.socket) -> None:
    """Close with RST, as a crashed server would."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass


class FakeHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    fake: FakeOllama


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHttpServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in one write, but stream chunks must not wait for Nagle
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)
            self.server.fake.connections_opened += 1

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_HEAD = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        from tests.fakes.ollama import RecordedRequest  # the server module imports this one

        request = RecordedRequest(self.command, path, dict(self.headers.items()), body)
        fake = self.server.fake
        counted = path in CHAT_PATHS
        if counted:
            fake._count_in_flight(+1)
        try:
            reply = fake.answer(request)
            self._send(reply, fake._stopping, head_only=self.command == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            if counted:
                fake._count_in_flight(-1)

    def _send(self, reply: Reply, stopping: threading.Event, *, head_only: bool) -> None:
        if reply.hang:
            stopping.wait()
            self.close_connection = True
            return
        if reply.latency_s and stopping.wait(reply.latency_s):
            return
        if reply.reset:
            self.close_connection = True
            abort_connection(self.connection)
            return
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                f"Content-Type: {reply.content_type}", "Connection: keep-alive"]  # fmt: skip
        if reply.chunks is not None:
            head.append("Transfer-Encoding: chunked")
            pieces = [b"%x\r\n%s\r\n" % (len(c), c) for c in reply.chunks]
            tail = b"0\r\n\r\n"
        else:
            head.append(f"Content-Length: {reply.declared_length or len(reply.body)}")
            pieces = (
                []
                if head_only
                else [bytes([b]) for b in reply.body]
                if reply.cut_after is not None
                else [reply.body]
            )
            tail = b""
        head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode()
        if reply.drip_s is not None:
            for byte in head_bytes + b"".join(pieces) + tail:
                if stopping.wait(reply.drip_s):
                    return
                self.wfile.write(bytes([byte]))
            return
        if reply.cut_after is not None:
            self.wfile.write(head_bytes + b"".join(pieces[: reply.cut_after]))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # a clean FIN mid-message
            return
        if reply.chunks is None or not reply.chunk_delay_s:
            self.wfile.write(head_bytes + b"".join(pieces) + tail)
            return
        self.wfile.write(head_bytes)
        for piece in pieces:
            if stopping.wait(reply.chunk_delay_s):
                return
            self.wfile.write(piece)
        self.wfile.write(tail)
