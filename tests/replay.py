"""A real HTTP server on 127.0.0.1 that replays recorded source responses, with injectable faults.

Tests point the real clients (`huggingface_hub.HfApi`, `arxiv.Client`) at it. Each route maps a
method and a path pattern to a handler; `inject` queues faults (status with Retry-After, delay,
truncated body) for matching requests; every request is recorded so tests can count them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int | None = None       # answer this status instead of the recorded response
    retry_after: int | None = None  # with this Retry-After header (seconds)
    delay: float = 0.0              # sleep before answering
    truncate: bool = False          # announce the full length, send half the body, close


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


Handler = Callable[[Request, re.Match], Response]


class _Server(ThreadingHTTPServer):
    # a listen backlog for clients that open many connections at once on a loaded machine (the
    # standard library's 5 refuses connections there, which a client rightly reads as an outage)
    request_queue_size = 128


class ReplayServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.faults: list[tuple[re.Pattern, Fault]] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def inject(self, pattern: str, *faults: Fault) -> None:
        """Apply `faults`, one per request, to the next requests whose path matches `pattern`."""
        with self._lock:
            self.faults.extend((re.compile(pattern), fault) for fault in faults)

    def count(self, method: str | None = None, pattern: str = "") -> int:
        regex = re.compile(pattern)
        return sum(1 for r in self.requests if (method is None or r.method == method) and regex.search(r.path))

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, (regex, fault) in enumerate(self.faults):
                if regex.search(path):
                    del self.faults[index]
                    return fault
        return None

    def _dispatch(self, request: Request) -> Response:
        for method, regex, handler in self.routes:
            match = regex.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, match)
            if match and method == "GET" and request.method == "HEAD":
                return handler(request, match)
        return Response(404, b'{"error":"Repository not found"}', {"Content-Type": "application/json",
                                                                    "X-Error-Code": "RepoNotFound"})

    def start(self) -> "ReplayServer":
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True   # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers))
                with server._lock:
                    server.requests.append(request)
                fault = server._next_fault(parts.path)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.status:
                    headers = {"Content-Type": "application/json"}
                    if fault.retry_after is not None:
                        headers["Retry-After"] = str(fault.retry_after)
                    response = Response(fault.status, b'{"error":"injected"}', headers)
                else:
                    response = server._dispatch(request)
                body = response.body
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                if fault and fault.truncate:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body[: len(body) // 2] if fault and fault.truncate else body)
                if fault and fault.truncate:
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = _serve

        self._server = _Server(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
