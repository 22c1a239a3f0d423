"""A loopback emulator of Alation's Job Status API (``vendor-docs/alation-job-status-api.txt``).

``GET /api/v1/bulk_metadata/job/?id=<n>`` or ``?name=<name>`` with the ``TOKEN`` header, and
``POST /integration/v1/createAPIAccessToken/`` to mint tokens from a refresh token. Answers are a
pure function of ``(jobs, seed, anchor, now)``: a job is unknown (404, or 400 with
``unknown_status=400``) before it is created, ``running`` until its duration has passed, then
``successful`` or ``failed`` with ``msg`` in the documented form and ``result`` a JSON document
encoded in a string (query-log jobs: the documented sentence). The documented examples are
served as they are printed. Requests must be serial and at most ``requests_per_second`` a
second: a violation is answered 429 and recorded in ``violations``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pendulum
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

# The kit keeps each request's connection in the WSGI environ under this key.
from jobpulse.sources.shared.sandbox import (
    ApiError,
    Sandbox,
    SandboxClock,
    client_connection,
)

DEFAULT_API_TOKEN = "sandbox-alation-api-token"
DEFAULT_REFRESH_TOKEN = "sandbox-alation-refresh-token"
DEFAULT_USER_ID = 7
DEFAULT_REQUESTS_PER_SECOND = 10.0

Kind = Literal["metadata", "lineage", "query_log"]
Outcome = Literal["successful", "failed"]
Malformed = Literal["msg", "result"]

# The documented examples, served exactly as printed.
DOCUMENTED_BY_NAME: dict[str, dict[str, str]] = {
    "MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-4ea1dc02-1c9f-41db-be6f-3f7cb1849da3": {
        "status": "successful",
        "msg": "Job finished in 2.0 seconds at 2017-10-05 19:36:48.374593+00:00",
        "result": '{"updated_objects": 1, "number_received": 2, "error_objects": ["Line 1. Key: '
        'schema_b. Datasource id in key does not match the id in the request"], "error": '
        '"1 errors were ignored"}',
    },
    "MetadataExtraction#1_Virtual_2017-01-12-23-52-34-272077-00-00-f11a1877-2ce7-4f6c-98e7-"
    "9bf5f8c0abf2": {
        "status": "successful",
        "msg": "Job finished in 1.0 seconds at 2017-01-12 23:52:34.307327+00:00",
        "result": '{"updated_objects": 2, "number_received": 2, "error_objects": [], "error": ""}',
    },
}
DOCUMENTED_BY_ID: dict[int, dict[str, str]] = {
    1: {
        "status": "successful",
        "msg": "Job finished in 0.585993 seconds at 2017-11-30 18:59:10.445133+00:00",
        "result": "Bulk Query Ingestion Succeeded: 0 new events ingested, 1 previously-ingested "
        "events skipped.",
    }
}

_KEYS: dict[Kind, str] = {
    "metadata": "MetadataExtraction#{n}",
    "lineage": "bulk_api_job",
    "query_log": "QueryLogIngestion#{n}",
}


@dataclass(frozen=True)
class JobSpec:
    """One generated job, created `created_after` the sandbox's anchor (negative: before)."""

    kind: Kind
    created_after: float  # seconds
    duration: float  # seconds
    outcome: Outcome = "successful"
    job_id: int | None = None  # None: known by its name only
    datasource: int = 1  # the `#n` of a metadata job's name
    errors: tuple[str, ...] = ()
    malformed: Malformed | None = None
    ascii_escaped: bool = True  # non-ASCII in `result` as \\u escapes (else raw UTF-8)


DEFAULT_JOBS: tuple[JobSpec, ...] = (
    JobSpec("query_log", -3 * 3600, 4.25, job_id=2),
    JobSpec("metadata", -2.8 * 3600, 12.5, job_id=3, datasource=2),
    JobSpec(
        "lineage",
        -2 * 3600,
        3.0,
        "failed",
        job_id=4,
        errors=(
            "Line 3. Key: 5.public.orders. Table does not exist",
            "Ligne 7. Clé : 5.données.clients — objet introuvable",
        ),
    ),
    JobSpec(
        "metadata",
        -3600,
        8.0,
        job_id=5,
        datasource=3,
        errors=("行 9: 列 «prix» が見つかりません",),
        ascii_escaped=False,
    ),
    JobSpec("query_log", -1800, 2.0, job_id=6, malformed="result"),
    # ids 7 and 8 do not exist: a gap discovery must cross
    JobSpec("query_log", -600, 1200.0, job_id=9),  # running for 20 minutes
    JobSpec("metadata", -300, 6.0, job_id=10, datasource=4, malformed="msg"),
    JobSpec("metadata", 600, 30.0, job_id=11, datasource=5),  # created 10 minutes from now
    JobSpec("metadata", -2400, 3600.0, datasource=6),  # by name, running for an hour
    JobSpec(
        "lineage", -5400, 5.5, "failed", errors=("Line 1. Key: 9.sales. Schema does not exist",)
    ),
    JobSpec("lineage", 1200, 4.0),  # by name, created 20 minutes from now
)


@dataclass(frozen=True)
class _Plan:
    spec: JobSpec
    name: str | None
    created: pendulum.DateTime
    number_received: int


class AlationSandbox(Sandbox):
    vendor = "Alation"
    url_map = Map(
        [
            Rule("/api/v1/bulk_metadata/job/", endpoint="job", methods=["GET"]),
            Rule("/integration/v1/createAPIAccessToken/", endpoint="token", methods=["POST"]),
        ]
    )

    def __init__(
        self,
        *,
        jobs: tuple[JobSpec, ...] = DEFAULT_JOBS,
        seed: int = 1,
        anchor: pendulum.DateTime | None = None,
        api_token: str = DEFAULT_API_TOKEN,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
        user_id: int = DEFAULT_USER_ID,
        issue_token: Callable[[], str] | None = None,
        requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
        unknown_status: Literal[400, 404] = 404,
        documented: bool = True,
        port: int = 0,
        latency_seconds: float = 0.0,
        clock: SandboxClock | None = None,
    ) -> None:
        super().__init__(port=port, latency_seconds=latency_seconds, clock=clock)
        self.anchor = (anchor or self.clock.now()).in_timezone("UTC").start_of("minute")
        self.api_token = api_token
        self.refresh_token = refresh_token
        self.user_id = user_id
        counter = itertools.count(1)
        self._issue = issue_token or (lambda: f"sandbox-alation-minted-{next(counter)}")
        self.issued_tokens: list[str] = []
        self._live_tokens: set[str] = set()
        self.requests_per_second = requests_per_second
        self.unknown_status = unknown_status
        self.documented_by_id = dict(DOCUMENTED_BY_ID) if documented else {}
        self.documented_by_name = dict(DOCUMENTED_BY_NAME) if documented else {}
        self.violations: list[str] = []
        self._arrivals: deque[float] = deque()
        self._in_flight: set[socket.socket] = set()
        self._rules_lock = threading.Lock()
        self._by_id: dict[int, _Plan] = {}
        self._by_name: dict[str, _Plan] = {}
        for index, spec in enumerate(jobs):
            plan = _plan(spec, seed, index, self.anchor)
            if spec.job_id is not None:
                self._by_id[spec.job_id] = plan
            else:
                assert plan.name is not None
                self._by_name[plan.name] = plan

    # what tests and the registry read

    def secrets(self) -> list[str]:
        return [self.api_token, self.refresh_token, *self.issued_tokens]

    def source_settings(
        self, flow: Literal["api_token", "refresh_token"] = "api_token"
    ) -> dict[str, Any]:
        """Settings pointing the Alation source here: every named job; ids by discovery."""
        auth: dict[str, Any] = (
            {"api_token": self.api_token}
            if flow == "api_token"
            else {"refresh_token": self.refresh_token, "user_id": self.user_id}
        )
        return {
            "base_url": self.base_url,
            **auth,
            "job_names": self.job_names(),
            "requests_per_second": self.requests_per_second,
        }

    def job_names(self) -> list[str]:
        return [*self.documented_by_name, *self._by_name]

    def all_ids(self) -> list[int]:
        return sorted({*self.documented_by_id, *self._by_id})

    def answer(
        self, *, job_id: int | None = None, name: str | None = None
    ) -> dict[str, Any] | None:
        """What the API answers now for a job, or None when the job does not exist (yet)."""
        if job_id is not None and job_id in self.documented_by_id:
            return dict(self.documented_by_id[job_id])
        if name is not None and name in self.documented_by_name:
            return dict(self.documented_by_name[name])
        plan = self._by_id.get(job_id) if job_id is not None else self._by_name.get(name or "")
        if plan is None:
            return None
        return _answer(plan, self.clock.now())

    def expire_tokens(self) -> None:
        """Minted tokens stop working, as when they expire."""
        self._live_tokens.clear()

    # serving

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message}

    def unauthorized_message(self) -> str:
        return "Authentication failed"

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serial and rate rules first: a request that breaks one is answered 429."""
        connection = client_connection(environ)
        with self._rules_lock:
            now = time.monotonic()
            while self._arrivals and self._arrivals[0] <= now - 1.0:
                self._arrivals.popleft()
            violation = None
            if any(_client_waits(other) for other in self._in_flight):
                violation = "a request arrived while another was in flight"
            elif len(self._arrivals) >= self.requests_per_second:
                violation = f"more than {self.requests_per_second:g} requests in one second"
            self._arrivals.append(now)
            self._in_flight.add(connection)
        try:
            if violation is None:
                return super().wsgi_app(environ, start_response)
            self.violations.append(violation)
            response = self.error_response(429, f"Request was throttled: {violation}.")
            return response(environ, start_response)
        finally:
            with self._rules_lock:
                self._in_flight.discard(connection)

    def on_job(self, request: Request) -> Any:
        self._authenticate(request)
        job_id, name = request.args.get("id"), request.args.get("name")
        if (job_id is None) == (name is None):
            raise ApiError(400, "Give exactly one of the parameters id and name.")
        if job_id is not None:
            try:
                number = int(job_id)
            except ValueError:
                raise ApiError(400, f"id must be an integer, got {job_id!r}.") from None
            found = self.answer(job_id=number)
        else:
            found = self.answer(name=name)
        if found is None:
            raise ApiError(
                self.unknown_status,
                "Not found." if self.unknown_status == 404 else "Job does not exist.",
            )
        return found

    def on_token(self, request: Request) -> Any:
        body = request.get_json(silent=True) or {}
        if body.get("refresh_token") != self.refresh_token or str(body.get("user_id")) != str(
            self.user_id
        ):
            raise ApiError(401, "Refresh token is invalid, expired or revoked.")
        token = self._issue()
        self.issued_tokens.append(token)
        self._live_tokens.add(token)
        now = self.clock.now()
        payload = {
            "api_access_token": token,
            "user_id": self.user_id,
            "created_at": now.isoformat(),
            "token_expires_at": now.add(days=1).isoformat(),
            "token_status": "ACTIVE",
        }
        return Response(json.dumps(payload), status=201, mimetype="application/json")

    def _authenticate(self, request: Request) -> None:
        token = request.headers.get("TOKEN")
        if not token:
            raise ApiError(401, "Authentication credentials were not provided.")
        if token != self.api_token and token not in self._live_tokens:
            raise ApiError(401, "Authentication failed")


def _client_waits(connection: socket.socket) -> bool:
    """Whether the client of an unanswered request still waits for it. A client that timed out
    has closed its connection: its retry is the next request, not a second one in flight."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True  # open, and nothing more sent: waiting
    except OSError:
        return False


def _plan(spec: JobSpec, seed: int, index: int, anchor: pendulum.DateTime) -> _Plan:
    rng = random.Random(hashlib.sha256(f"{seed}:{index}:{spec}".encode()).hexdigest())
    created = anchor + pendulum.duration(seconds=spec.created_after)
    name = None
    if spec.job_id is None:
        key = _KEYS[spec.kind].format(n=spec.datasource)
        stamp = created.format("YYYY-MM-DD-HH-mm-ss-SSSSSS")
        name = f"{key}_{stamp}-00-00-{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    return _Plan(spec, name, created, rng.randint(len(spec.errors) + 1, 5000))


def _answer(plan: _Plan, now: pendulum.DateTime) -> dict[str, Any] | None:
    spec = plan.spec
    if now < plan.created:
        return None
    finished = plan.created + pendulum.duration(seconds=spec.duration)
    if now < finished:
        return {"status": "running", "msg": "", "result": ""}
    msg = f"Job finished in {spec.duration} seconds at {finished:%Y-%m-%d %H:%M:%S.%f}+00:00"
    if spec.malformed == "msg":
        msg = "Job done, see the logs."
    return {"status": spec.outcome, "msg": msg, "result": _result(plan)}


def _result(plan: _Plan) -> str:
    spec = plan.spec
    if spec.malformed == "result":
        return "{'updated_objects': 3, 'number_received': 3"  # a Python repr, cut short
    if spec.kind == "query_log":
        skipped = plan.number_received // 10
        return (
            f"Bulk Query Ingestion Succeeded: {plan.number_received - skipped} new events "
            f"ingested, {skipped} previously-ingested events skipped."
        )
    errors = list(spec.errors)
    document = {
        "updated_objects": plan.number_received - len(errors),
        "number_received": plan.number_received,
        "error_objects": errors,
        "error": f"{len(errors)} errors were ignored" if errors else "",
    }
    return json.dumps(document, ensure_ascii=spec.ascii_escaped)


def iter_answers(sandbox: AlationSandbox) -> Iterator[tuple[str, dict[str, Any]]]:
    """`(job_ref, answer)` of every job that exists now: what a complete load holds."""
    for job_id in sandbox.all_ids():
        found = sandbox.answer(job_id=job_id)
        if found is not None:
            yield f"id:{job_id}", found
    for name in sandbox.job_names():
        found = sandbox.answer(name=name)
        if found is not None:
            yield name, found
