"""The sandbox kit: what every vendor emulator needs, on werkzeug's routing, requests and responses.

A vendor's sandbox subclasses `Sandbox`, declares its routes as a werkzeug `Map` whose endpoint
names match `on_<endpoint>` methods, and generates its history from `self.clock.now()`. The kit
gives it a loopback HTTP/1.1 server with keep-alive, injected latency, a request log (with the
number of requests in flight at each arrival, and arrival and answer times), a clock that
tests can move, and faults injected on any route by path pattern and count:

- `Fault.status(503)`, `Fault.status(429, headers={"Retry-After": "1"})`, any status with a body;
- `Fault.reset()`: the connection is dropped without an answer;
- `Fault.delay(seconds)`: the real answer, sent only after `seconds` (past a client's timeout);
- `Fault.truncated_json()`: the real answer cut in half, status 200, so the body is not JSON;
- `Fault.html_page()`: an HTML page with status 200, as a proxy or a login wall answers;
- `Fault.unauthorized()`: a 401 as the vendor sends it for a token that was valid a moment ago.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, Self

import pendulum
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request, Response

logger = logging.getLogger(__name__)

_SERVER_POLL_SECONDS = 0.01  # bounds how long stop() waits for the serving loop to notice
_SOCKET_KEY = "jobpulse.sandbox.socket"  # the WSGI environ key holding the client's socket
_HTML_PAGE = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"

FaultKind = Literal["status", "reset", "delay", "truncated_json", "html_page", "unauthorized"]


class ApiError(Exception):
    """Raised by a handler: the sandbox answers `status` with the vendor's error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Fault:
    """Something a sandbox does instead of, or to, its normal answer."""

    kind: FaultKind
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    seconds: float = 0.0

    @classmethod
    def status_code(
        cls, status: int, *, headers: Mapping[str, str] | None = None, body: str = ""
    ) -> Fault:
        """Answer `status`, with `body` (the vendor's error body when empty) and `headers`."""
        return cls("status", status=status, headers=dict(headers or {}), body=body)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)

    @classmethod
    def truncated_json(cls) -> Fault:
        return cls("truncated_json")

    @classmethod
    def html_page(cls) -> Fault:
        return cls("html_page")

    @classmethod
    def unauthorized(cls) -> Fault:
        return cls("unauthorized", status=401)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.status}" if self.kind == "status" else self.kind


@dataclass
class _Injected:
    pattern: str
    fault: Fault
    remaining: int | None  # None: until cleared


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the sandbox saw it, and the status it answered (0: dropped)."""

    method: str
    path: str  # percent-decoded
    query: dict[str, str]
    status: int
    json: Any = None  # the decoded JSON body, when one was sent
    in_flight: int = 0  # requests being answered when this one arrived, itself included
    arrived: float = 0.0  # time.monotonic() on arrival
    answered: float = 0.0  # time.monotonic() once answered (latency included)


class SandboxClock:
    """The sandbox's "now": the wall clock (which `time-machine` moves for client and sandbox
    alike), or a fixed instant (`frozen_at`: the history holds still however long a test
    takes), plus an offset that `advance` moves for the sandbox alone."""

    def __init__(self, frozen_at: pendulum.DateTime | None = None) -> None:
        self._frozen_at = frozen_at
        self._offset = pendulum.duration()

    def now(self) -> pendulum.DateTime:
        return (self._frozen_at or pendulum.now("UTC")) + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += pendulum.duration(seconds=seconds)


class Sandbox:
    """Base of the vendor emulators: a WSGI app served on 127.0.0.1 from a daemon thread."""

    url_map: ClassVar[Map]
    vendor: ClassVar[str]

    def __init__(
        self, *, port: int = 0, latency_seconds: float = 0.0, clock: SandboxClock | None = None
    ) -> None:
        self.port = port
        self.latency_seconds = latency_seconds
        self.clock = clock or SandboxClock()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._faults: list[_Injected] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"the {self.vendor} sandbox is already started")
        self._server = _Server(self.port, self.wsgi_app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SERVER_POLL_SECONDS},
            name=f"{self.vendor.lower()}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.vendor} sandbox is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    # faults

    def inject(self, pattern: str, fault: Fault, *, times: int | None = 1) -> None:
        """Apply `fault` to the next `times` requests (None: every one until `clear_faults`)
        whose percent-decoded path matches the glob `pattern` (`*/steps`, `*`)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for a persistent fault")
        with self._lock:
            self._faults.append(_Injected(pattern, fault, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # what a vendor sandbox overrides

    def source_settings(self) -> Mapping[str, Any]:
        """The vendor source's arguments (credentials, base URL) that point it at this sandbox."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Every secret a client of this sandbox holds or was issued (configured credentials,
        tokens minted so far): what the tests look for wherever a load leaves text."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        """The JSON body of an error answer, in the vendor's documented shape."""
        return {"message": message}

    def unauthorized_message(self) -> str:
        return "the access token is invalid or has expired"

    # serving

    def json_response(self, payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json")

    def error_response(self, status: int, message: str) -> Response:
        return self.json_response(self.error_body(status, message), status)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            in_flight, arrived = self.in_flight, time.monotonic()
        status = 0
        try:
            if self.latency_seconds > 0:
                time.sleep(self.latency_seconds)
            response = self._respond(request)
            status = response.status_code
            return response(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1
                self.requests.append(
                    RecordedRequest(
                        request.method,
                        request.path,
                        request.args.to_dict(),
                        status,
                        request.get_json(silent=True),
                        in_flight,
                        arrived,
                        time.monotonic(),
                    )
                )

    def _respond(self, request: Request) -> Response:
        fault = self._take_fault(request.path)
        if fault is None:
            return self._dispatch(request)
        match fault.kind:
            case "status":
                if fault.body:
                    return Response(fault.body, fault.status, fault.headers, "application/json")
                response = self.error_response(fault.status, f"injected HTTP {fault.status}")
                response.headers.update(fault.headers)
                return response
            case "unauthorized":
                return self.error_response(401, self.unauthorized_message())
            case "html_page":
                return Response(_HTML_PAGE, 200, mimetype="text/html")
            case "delay":
                time.sleep(fault.seconds)
                return self._dispatch(request)
            case "truncated_json":
                response = self._dispatch(request)
                body = response.get_data()
                response.set_data(body[: len(body) // 2])
                return response
            case "reset":
                _drop_connection(request.environ)
        raise AssertionError(f"unknown fault {fault.kind}")

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for injected in self._faults:
                if fnmatch.fnmatchcase(path, injected.pattern):
                    if injected.remaining is not None:
                        injected.remaining -= 1
                        if injected.remaining <= 0:
                            self._faults.remove(injected)
                    return injected.fault
        return None

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            result = getattr(self, f"on_{endpoint}")(request, **values)
        except ApiError as error:
            return self.error_response(error.status, error.message)
        except HTTPException as error:  # no route (404), wrong method (405)
            return self.error_response(error.code or 500, error.description or error.name)
        return result if isinstance(result, Response) else self.json_response(result)


def client_connection(environ: Mapping[str, Any]) -> socket.socket:
    """The socket of the client whose request is being served: how an emulator tells one
    client's connection from another's (the Alation sandbox's one-request-at-a-time rule)."""
    connection: socket.socket = environ[_SOCKET_KEY]
    return connection


def _drop_connection(environ: Mapping[str, Any]) -> None:
    """Close the connection with a TCP reset instead of an answer."""
    connection = client_connection(environ)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("sandbox fault: connection reset")


class _Handler(BaseHTTPRequestHandler):
    """Serves the WSGI app with HTTP/1.1 keep-alive, as vendors do.

    Not werkzeug's own server: it closes every connection after one answer (http.server cannot
    drain bodies for it), and a client's cost per request depends on reused connections. The
    request still reaches the app through werkzeug: `EnvironBuilder` builds the WSGI environ and
    `run_wsgi_app` runs it, so nothing here parses paths or queries.
    """

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body would wait
    # ~40 ms for the client's delayed ACK on every kept-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        with contextlib.suppress(OSError):  # a client gone mid-answer is not the sandbox's error
            super().finish()

    def do_GET(self) -> None:
        # The body is read whole, so that the next request on this connection parses.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        host, port = self.server.server_address[:2]
        environ = EnvironBuilder(
            path=self.path,
            method=self.command,
            headers=list(self.headers.items()),
            data=body,
            environ_base={"SERVER_NAME": str(host), "SERVER_PORT": str(port)},
            environ_overrides={_SOCKET_KEY: self.connection},
        ).get_environ()
        app_iter, status, headers = run_wsgi_app(self.server.app, environ, buffered=True)
        payload = b"".join(app_iter)
        self.send_response(int(status.split(" ", 1)[0]))
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox: " + format, *args)


class _Server(ThreadingHTTPServer):
    """Closing it also closes kept-alive connections, whose threads would otherwise go on
    answering after `stop()` and hide an outage from the client being tested."""

    daemon_threads = True

    def __init__(self, port: int, app: Callable[..., Any]) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A dropped connection (a reset fault, a client that hung up) prints no traceback."""
        logger.debug("sandbox: connection from %s ended early", client_address, exc_info=True)
