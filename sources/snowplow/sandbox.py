"""A loopback emulator of the Snowplow BDP jobs API (``vendor-docs/snowplow-jobs-api.txt``).

The job history is a pure function of ``(jobs, seed, now)``: every job runs at fixed absolute
times (epoch-aligned multiples of its interval, plus an offset), and everything about one run
(outcome, step durations, logs) comes from a ``random.Random`` seeded with a stable string of
``(seed, job_id, scheduled start)``. "Now" is ``pendulum.now("UTC")`` read at each request, so
tests move the sandbox and the client together with ``time-machine``; a run is RUNNING until
now passes its end, then SUCCEEDED or FAILED, and never changes again.

The server enforces what the vendor documents: token exchange (v2 and v3), bearer tokens,
windows of at most 96 hours inside the last 7 days, both bounds of one type, and the
trimming of a window to its latest ``runs_cap`` runs. Latency and faults can be injected.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import logging
import math
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import parse_qsl, unquote, urlsplit

import pendulum

logger = logging.getLogger(__name__)

DEFAULT_ORGANIZATION_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_API_KEY_ID = "sandbox-api-key-id"

MAX_WINDOW = pendulum.duration(hours=96)
RETENTION = pendulum.duration(days=7)
SLOWDOWN_CYCLE = pendulum.duration(days=28)

_API_PREFIX = ("api", "msc", "v1", "organizations")
_RUNS_PATH = ("jobs", "v1", "runs")
_STARTED_STATES = frozenset({"RUNNING", "SUCCEEDED", "FAILED"})
_FINISHED_STATES = frozenset({"SUCCEEDED", "FAILED"})
_TYPICAL_LOG_LINE_BYTES = 110
_SERVER_POLL_SECONDS = 0.01  # bounds how long stop() waits for the serving loop to notice
_ISO_DURATION = re.compile(
    r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)
_DB_ERRORS = (
    'relation "atomic.events_staged" does not exist',
    "permission denied for schema derived",
    "division by zero",
    "could not serialize access due to concurrent update",
    "could not extend file: No space left on device",
)


@dataclass(frozen=True)
class StepSpec:
    """One step of a job's DAG; it starts once all its ``dependencies`` have finished."""

    name: str
    dependencies: tuple[str, ...]
    base_seconds: float


@dataclass(frozen=True)
class JobSpec:
    """One scheduled data-model job.

    Runs start at ``k * every + offset`` seconds after the Unix epoch. A run's durations grow
    by ``slowdown_per_day`` (a fraction, compounded) for every day since the start of the
    current epoch-aligned ``slowdown_cycle``. Compounding makes the slowdown over any week the
    same whatever "now" is; the reset once per cycle (someone "fixes" the job) keeps a demo
    held years after any fixed anchor from running jobs for days.
    """

    job_id: str
    job_name: str
    environment: str
    every: pendulum.Duration
    offset: pendulum.Duration
    steps: tuple[StepSpec, ...]
    failure_rate: float
    slowdown_per_day: float = 0.0
    slowdown_cycle: pendulum.Duration = SLOWDOWN_CYCLE
    jitter: float = 0.15  # a run's durations are scaled by uniform(1 - jitter, 1 + jitter)
    failing_step: str | None = None  # the step that fails in a failed run; None: a random one
    failure_log_bytes: int | None = None  # stderr size of a failed step; None: the sandbox's

    def __post_init__(self) -> None:
        every = self.every.total_seconds()
        if every <= 0 or not every.is_integer():
            raise ValueError(f"{self.job_id}: `every` must be a positive whole number of seconds")
        if not 0 <= self.offset.total_seconds() < every:
            raise ValueError(f"{self.job_id}: `offset` must be within [0, every)")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"{self.job_id}: `failure_rate` must be within [0, 1]")
        self._check_steps()

    def _check_steps(self) -> None:
        """Steps must be listed after their dependencies, which makes the DAG acyclic."""
        if not self.steps:
            raise ValueError(f"{self.job_id}: a job needs at least one step")
        seen: set[str] = set()
        for step in self.steps:
            unknown = set(step.dependencies) - seen
            if step.name in seen or unknown:
                raise ValueError(
                    f"{self.job_id}: step {step.name!r} is duplicated or depends on "
                    f"steps not listed before it: {sorted(unknown)}"
                )
            seen.add(step.name)
        if self.failing_step is not None and self.failing_step not in seen:
            raise ValueError(f"{self.job_id}: unknown failing_step {self.failing_step!r}")


_BASE_STEP = "base / events this run"

DEFAULT_JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        job_id="5f0c7a3e-2b1d-4c8e-9a6f-1e2d3c4b5a61",
        job_name="Web data model",
        environment="prod",
        every=pendulum.duration(hours=1),
        offset=pendulum.duration(minutes=5),
        failure_rate=0.0,
        steps=(
            StepSpec(_BASE_STEP, (), 150),
            StepSpec("page views", (_BASE_STEP,), 210),
            StepSpec("sessions", (_BASE_STEP,), 170),
            StepSpec("users", ("page views", "sessions"), 95),
            StepSpec("manifest/cleanup", ("users",), 25),
        ),
    ),
    JobSpec(
        job_id="8d4b2f6a-7c3e-4a1b-b5d9-2f3e4a5b6c72",
        job_name="Mobile data model",
        environment="prod",
        every=pendulum.duration(hours=2),
        offset=pendulum.duration(minutes=20),
        failure_rate=0.3,
        steps=(
            StepSpec(_BASE_STEP, (), 180),
            StepSpec("screen views", (_BASE_STEP,), 240),
            StepSpec("app errors", (_BASE_STEP,), 75),
            StepSpec("sessions", ("screen views",), 160),
            StepSpec("users", ("sessions", "app errors"), 90),
        ),
    ),
    JobSpec(
        job_id="c1e9a7b5-3d2f-4e6a-8c4b-3a4b5c6d7e83",
        job_name="E-commerce data model",
        environment="prod",
        every=pendulum.duration(hours=6),
        offset=pendulum.duration(minutes=45),
        failure_rate=1.0,
        failing_step="cart interactions",
        failure_log_bytes=80_000,  # beyond the clients' 64 KiB tail cap
        steps=(
            StepSpec(_BASE_STEP, (), 120),
            StepSpec("cart interactions", (_BASE_STEP,), 200),
            StepSpec("checkout steps", (_BASE_STEP,), 150),
            StepSpec("transactions", ("cart interactions", "checkout steps"), 110),
            StepSpec("products / daily rollup", ("transactions",), 60),
        ),
    ),
    JobSpec(
        job_id="e7f5d3c1-9b8a-4f2e-a1c3-4b5c6d7e8f94",
        job_name="Attribution model",
        environment="prod",
        every=pendulum.duration(hours=3),
        offset=pendulum.duration(minutes=10),
        failure_rate=0.0,
        slowdown_per_day=0.05,
        jitter=0.05,
        steps=(
            StepSpec("base / conversions", (), 300),
            StepSpec("paths to conversion", ("base / conversions",), 420),
            StepSpec("paths to non-conversion", ("base / conversions",), 360),
            StepSpec(
                "attribution / first & last touch",
                ("paths to conversion", "paths to non-conversion"),
                240,
            ),
        ),
    ),
)


class SourceSettings(TypedDict):
    """`snowplow_source` arguments: where the API is and the credentials it accepts."""

    organization_id: str
    api_key: str
    api_key_id: str
    base_url: str


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # percent-decoded
    query: dict[str, str]
    status: int


@dataclass(frozen=True)
class _StepPlan:
    spec: StepSpec
    start: pendulum.DateTime | None  # None: skipped, an upstream step failed
    end: pendulum.DateTime | None
    failed: bool


@dataclass(frozen=True)
class _RunPlan:
    """Everything about one run, independent of "now"; states are derived from it per request."""

    run_id: str
    job: JobSpec
    start: pendulum.DateTime
    end: pendulum.DateTime
    failed_at: pendulum.DateTime | None
    steps: tuple[_StepPlan, ...]


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Fault:
    path_contains: str
    status: int
    remaining: int
    headers: dict[str, str]
    body: str


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --- the history: a pure function of (job, seed, scheduled start) ---------------------------


def _run_id(job_id: str, start: pendulum.DateTime) -> str:
    key = f"{job_id}|{_iso(start)}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def _rng(seed: int, job_id: str, start: pendulum.DateTime, *extra: str) -> random.Random:
    """A generator seeded by a string: stable across processes, unlike ``hash()``."""
    return random.Random("|".join((str(seed), job_id, _iso(start), *extra)))


def _schedule(
    job: JobSpec, first: pendulum.DateTime, last: pendulum.DateTime
) -> Iterator[pendulum.DateTime]:
    """Scheduled starts of ``job`` within ``[first, last]``."""
    every = int(job.every.total_seconds())
    offset = int(job.offset.total_seconds())
    for k in itertools.count(math.ceil((first.timestamp() - offset) / every)):
        start = k * every + offset
        if start > last.timestamp():
            return
        yield pendulum.from_timestamp(start, tz="UTC")


def _slowdown_factor(job: JobSpec, start: pendulum.DateTime) -> float:
    days_into_cycle = (start.timestamp() % job.slowdown_cycle.total_seconds()) / 86_400
    return float((1.0 + job.slowdown_per_day) ** days_into_cycle)


def _pick_failing_step(job: JobSpec, rng: random.Random) -> str | None:
    if rng.random() >= job.failure_rate:
        return None
    return job.failing_step or rng.choice(job.steps).name


def _plan_step(
    spec: StepSpec,
    planned: Mapping[str, _StepPlan],
    run_start: pendulum.DateTime,
    scale: float,
    failing_step: str | None,
    rng: random.Random,
) -> _StepPlan:
    seconds = max(1, round(spec.base_seconds * scale * rng.uniform(0.9, 1.1)))
    upstream = [planned[name] for name in spec.dependencies]
    ends = [step.end for step in upstream if step.end is not None and not step.failed]
    if len(ends) < len(upstream):
        return _StepPlan(spec, None, None, failed=False)
    start = max(ends, default=run_start)
    failed = spec.name == failing_step
    if failed:
        seconds = max(1, round(seconds * rng.uniform(0.2, 0.9)))
    return _StepPlan(spec, start, start.add(seconds=seconds), failed)


@functools.lru_cache(maxsize=65_536)
def _plan_run(job: JobSpec, seed: int, start: pendulum.DateTime) -> _RunPlan:
    """Plan one run.

    Steps independent of a failed step still run to completion (a DAG runner skips only what
    depends on the failure), so the run ends when its last executed step ends: when the failed
    step is the last one running, that is when it fails.
    """
    rng = _rng(seed, job.job_id, start)
    scale = _slowdown_factor(job, start) * rng.uniform(1 - job.jitter, 1 + job.jitter)
    failing_step = _pick_failing_step(job, rng)
    planned: dict[str, _StepPlan] = {}
    for spec in job.steps:
        planned[spec.name] = _plan_step(spec, planned, start, scale, failing_step, rng)
    steps = tuple(planned.values())
    return _RunPlan(
        run_id=_run_id(job.job_id, start),
        job=job,
        start=start,
        end=max(step.end for step in steps if step.end is not None),
        failed_at=next((step.end for step in steps if step.failed), None),
        steps=steps,
    )


# --- views of a plan as of "now" --------------------------------------------------------------


def _iso(moment: pendulum.DateTime) -> str:
    return moment.in_tz("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_or_none(moment: pendulum.DateTime | None) -> str | None:
    return None if moment is None else _iso(moment)


def _iso_duration(start: pendulum.DateTime | None, end: pendulum.DateTime | None) -> str | None:
    """``PT1H2M3S``-style duration between two instants, ``None`` unless both are known."""
    if start is None or end is None:
        return None
    seconds = round((end - start).total_seconds())
    hours, minutes, seconds = seconds // 3600, seconds // 60 % 60, seconds % 60
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return f"PT{parts}{seconds}S" if seconds or not parts else f"PT{parts}"


def _run_state(plan: _RunPlan, now: pendulum.DateTime) -> str:
    if now < plan.end:
        return "RUNNING"
    return "SUCCEEDED" if plan.failed_at is None else "FAILED"


def _run_summary(plan: _RunPlan, now: pendulum.DateTime) -> dict[str, Any]:
    state = _run_state(plan, now)
    return {
        "runId": plan.run_id,
        "jobId": plan.job.job_id,
        "jobName": plan.job.job_name,
        "environment": plan.job.environment,
        "state": state,
        "startTime": _iso(plan.start),
        "endTime": None if state == "RUNNING" else _iso(plan.end),
        "trigger": "schedule",
    }


def _step_state(plan: _RunPlan, step: _StepPlan, now: pendulum.DateTime) -> str:
    if step.start is None or step.end is None:
        failed = plan.failed_at is not None and plan.failed_at <= now
        return "SKIPPED" if failed else "PENDING"
    if now < step.start:
        return "PENDING"
    if now < step.end:
        return "RUNNING"
    return "FAILED" if step.failed else "SUCCEEDED"


def _step_view(plan: _RunPlan, step: _StepPlan, now: pendulum.DateTime) -> dict[str, Any]:
    state = _step_state(plan, step, now)
    start = step.start if state in _STARTED_STATES else None
    end = step.end if state in _FINISHED_STATES else None
    return {
        "name": step.spec.name,
        "state": state,
        "dependencies": list(step.spec.dependencies),
        "startTime": _iso_or_none(start),
        "endTime": _iso_or_none(end),
        "duration": _iso_duration(start, end),
    }


# --- step logs ---------------------------------------------------------------------------------


def _model_name(step_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", step_name.lower()).strip("_")


def _timeline(
    start: pendulum.DateTime, end: pendulum.DateTime, target_bytes: int
) -> Iterator[pendulum.DateTime]:
    """Timestamps spread over ``[start, end]`` for a log of about ``target_bytes``."""
    total = (end - start).total_seconds()
    tick = total * _TYPICAL_LOG_LINE_BYTES / max(target_bytes, 1)
    for i in itertools.count():
        yield start.add(seconds=round(min(i * tick, total)))


def _stdout_lines(model: str, rng: random.Random) -> Iterator[str]:
    yield "Running with dbt=1.7.4"
    for i in itertools.count(1):
        relation = f"derived.{model}_{i}"
        yield f"{i} START sql incremental model {relation} ........ [RUN]"
        rows, secs = rng.randint(1_000, 2_000_000), rng.uniform(0.2, 40)
        yield f"{i} OK created sql incremental model {relation} [INSERT {rows} in {secs:.2f}s]"


def _warning_lines(model: str, rng: random.Random) -> Iterator[str]:
    for batch in itertools.count(1):
        duplicates = rng.randint(1, 5_000)
        yield (
            f"[WARNING]: {model}: {duplicates} duplicate event_id values quarantined to "
            f"derived.{model}_duplicates (batch {batch})"
        )


def _render(
    lines: Iterator[str], times: Iterator[pendulum.DateTime], until: pendulum.DateTime, limit: int
) -> list[str]:
    """Timestamped lines up to ``until``, stopping once ``limit`` bytes are reached."""
    rendered: list[str] = []
    size = 0
    for line, at in zip(lines, times, strict=False):
        if at > until or size >= limit:
            break
        rendered.append(f"{_iso(at)} {line}")
        size += len(rendered[-1]) + 1
    return rendered


def _step_logs(
    plan: _RunPlan, step: _StepPlan, seed: int, now: pendulum.DateTime, log_bytes: int
) -> tuple[str, str]:
    """(stdout, stderr) of a step as of ``now``: a running step has written part of its stdout;
    only a failed step has a stderr, ending with its error."""
    if step.start is None or step.end is None or now < step.start:
        return "", ""
    model = _model_name(step.spec.name)
    stdout_rng = _rng(seed, plan.job.job_id, plan.start, step.spec.name, "stdout")
    stdout = _render(
        _stdout_lines(model, stdout_rng),
        _timeline(step.start, step.end, log_bytes),
        min(now, step.end),
        log_bytes,
    )
    if not step.failed or now < step.end:
        return "\n".join(stdout), ""
    stderr_rng = _rng(seed, plan.job.job_id, plan.start, step.spec.name, "stderr")
    stderr_bytes = plan.job.failure_log_bytes or log_bytes
    stderr = _render(
        _warning_lines(model, stderr_rng),
        _timeline(step.start, step.end, stderr_bytes),
        step.end,
        stderr_bytes,
    )
    error = f"Database Error in model {model} (models/{model}.sql): {stderr_rng.choice(_DB_ERRORS)}"
    stderr.append(f"{_iso(step.end)} {error}")
    return "\n".join(stdout), "\n".join(stderr)


# --- request parsing ---------------------------------------------------------------------------


def _parse_duration(text: str) -> pendulum.Duration | None:
    """An ISO-8601 duration with signed parts as the vendor's JVM accepts (``PT-12H``, ``-P1D``).

    pendulum.parse rejects negative durations, hence the small parser.
    """
    match = _ISO_DURATION.fullmatch(text)
    if match is None or not any(match.groups()[1:]):
        return None
    sign, days, hours, minutes, seconds = match.groups()
    duration = pendulum.duration(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float((seconds or "0").replace(",", ".")),
    )
    return -duration if sign == "-" else duration


def _parse_bound(name: str, text: str, now: pendulum.DateTime) -> tuple[str, pendulum.DateTime]:
    """(kind, instant) of a ``from``/``to`` value; a duration is relative to now."""
    duration = _parse_duration(text)
    if duration is not None:
        return "duration", now + duration
    try:
        parsed = pendulum.parse(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, pendulum.DateTime):
        raise _ApiError(400, f"`{name}` must be an ISO-8601 timestamp or duration, got {text!r}")
    return "timestamp", parsed.in_tz("UTC")


def _parse_window(
    query: Mapping[str, str], now: pendulum.DateTime
) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    missing = [name for name in ("from", "to") if not query.get(name)]
    if missing:
        raise _ApiError(400, f"missing required query parameter(s): {', '.join(missing)}")
    from_kind, start = _parse_bound("from", query["from"], now)
    to_kind, end = _parse_bound("to", query["to"], now)
    if from_kind != to_kind:
        raise _ApiError(400, "`from` and `to` must both be timestamps or both be durations")
    if start > end:
        raise _ApiError(400, "`from` must not be after `to`")
    if end - start > MAX_WINDOW:
        raise _ApiError(400, "the requested time window cannot exceed 96 hours")
    if start < now - RETENTION:
        raise _ApiError(400, "the requested time window cannot start earlier than 1 week ago")
    return start, end


def _split_path(raw_path: str) -> tuple[str, ...]:
    """Path segments, each decoded after splitting so that ``%2F`` stays inside its segment."""
    return tuple(unquote(segment) for segment in raw_path.split("/")[1:])


# --- the server --------------------------------------------------------------------------------


class SnowplowSandbox:
    """The emulated API on ``127.0.0.1`` at a free port, served from a daemon thread."""

    def __init__(
        self,
        *,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        api_key: str = DEFAULT_API_KEY,
        api_key_id: str = DEFAULT_API_KEY_ID,
        jobs: Sequence[JobSpec] = DEFAULT_JOBS,
        seed: int = 0,
        runs_cap: int = 10_000,
        latency_seconds: float = 0.0,
        wrap_lists: bool = False,
        log_bytes: int = 2048,
        port: int = 0,
        issue_token: Callable[[], str] | None = None,
    ) -> None:
        if runs_cap < 1:
            raise ValueError("runs_cap must be at least 1")
        self.organization_id = organization_id
        self.api_key = api_key
        self.api_key_id = api_key_id
        self.jobs = tuple(jobs)
        self.seed = seed
        self.runs_cap = runs_cap
        self.latency_seconds = latency_seconds
        self.wrap_lists = wrap_lists
        self.log_bytes = log_bytes
        self.port = port
        self.issue_token = issue_token or (lambda: secrets.token_urlsafe(32))
        self.issued_tokens: list[str] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self._faults: list[_Fault] = []
        self._runs_by_id: dict[str, _RunPlan] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> SnowplowSandbox:
        if self._server is not None:
            raise RuntimeError("the sandbox is already started")
        self._server = _Server(self._respond, self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SERVER_POLL_SECONDS},
            name="snowplow-sandbox",
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

    def __enter__(self) -> SnowplowSandbox:
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
            raise RuntimeError("the sandbox is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def source_settings(self) -> SourceSettings:
        """The `snowplow_source` arguments that point jobpulse at this sandbox (v3 token flow)."""
        return {
            "organization_id": self.organization_id,
            "api_key": self.api_key,
            "api_key_id": self.api_key_id,
            "base_url": self.base_url,
        }

    # test controls

    def inject_fault(
        self,
        path_contains: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: str = "",
    ) -> None:
        """Answer the next ``times`` requests whose decoded path contains ``path_contains``
        with ``status``, ``headers`` and ``body`` (a JSON message when empty)."""
        fault = _Fault(path_contains, status, times, dict(headers or {}), body)
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # the truth, for tests

    def runs_started_between(
        self, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[dict[str, Any]]:
        """Every run started within ``[start, end]`` as the API shows it now, retention aside."""
        now = pendulum.now("UTC")
        return [_run_summary(plan, now) for plan in self._plans_between(start, end, now)]

    def steps_of(self, run_id: str) -> list[dict[str, Any]]:
        """The steps of a run as the API shows them now; ``KeyError`` for an unknown run."""
        now = pendulum.now("UTC")
        plan = self._find_run(run_id, now)
        if plan is None:
            raise KeyError(run_id)
        return [_step_view(plan, step, now) for step in plan.steps]

    # history lookups

    def _plans_between(
        self, start: pendulum.DateTime, end: pendulum.DateTime, now: pendulum.DateTime
    ) -> list[_RunPlan]:
        last = min(end, now)
        plans = [
            _plan_run(job, self.seed, scheduled)
            for job in self.jobs
            for scheduled in _schedule(job, start, last)
        ]
        plans.sort(key=lambda plan: (plan.start, plan.job.job_id))
        self._runs_by_id.update((plan.run_id, plan) for plan in plans)
        return plans

    def _find_run(self, run_id: str, now: pendulum.DateTime) -> _RunPlan | None:
        """A run by id; ids never listed before are searched for within the retention."""
        if run_id not in self._runs_by_id:
            self._plans_between(now - RETENTION, now, now)
        plan = self._runs_by_id.get(run_id)
        return plan if plan is not None and plan.start <= now else None

    # HTTP

    def _respond(self, method: str, target: str, headers: Mapping[str, str]) -> _Response:
        """Answer one request; ``headers`` have lower-case names."""
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)
        url = urlsplit(target)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        response = self._take_fault(path) or self._answer(method, url.path, query, headers)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, response.status))
        return response

    def _take_fault(self, path: str) -> _Response | None:
        with self._lock:
            fault = next((f for f in self._faults if f.path_contains in path), None)
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
        body = fault.body or json.dumps({"message": f"injected fault: HTTP {fault.status}"})
        return _Response(fault.status, _json_headers() | fault.headers, body.encode())

    def _answer(
        self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Response:
        try:
            if method != "GET":
                raise _ApiError(405, f"method {method} not allowed")
            payload = self._route(_split_path(raw_path), query, headers)
            status = 200
        except _ApiError as error:
            payload, status = {"message": error.message}, error.status
        return _Response(status, _json_headers(), json.dumps(payload).encode())

    def _route(
        self, segments: tuple[str, ...], query: Mapping[str, str], headers: Mapping[str, str]
    ) -> Any:
        if segments[:4] != _API_PREFIX or len(segments) < 6:
            raise _ApiError(404, "not found")
        if segments[4] != self.organization_id:
            raise _ApiError(404, f"organization {segments[4]} not found")
        resource = segments[5:]
        if resource == ("credentials", "v2", "token"):
            return self._token_v2(headers)
        if resource == ("credentials", "v3", "token"):
            return self._token_v3(headers)
        if resource[:3] != _RUNS_PATH:
            raise _ApiError(404, "not found")
        self._authorize(headers)
        return self._route_runs(resource[3:], query, pendulum.now("UTC"))

    def _route_runs(
        self, resource: tuple[str, ...], query: Mapping[str, str], now: pendulum.DateTime
    ) -> Any:
        match resource:
            case ():
                return self._list_runs(query, now)
            case (run_id,):
                plan = self._existing_run(run_id, now)
                return _run_summary(plan, now) | {"steps": self._steps(plan, now)}
            case (run_id, "steps"):
                return self._listing("steps", self._steps(self._existing_run(run_id, now), now))
            case (run_id, "steps", step_name):
                return self._step_detail(self._existing_run(run_id, now), step_name, now)
            case _:
                raise _ApiError(404, "not found")

    # endpoints

    def _token_v2(self, headers: Mapping[str, str]) -> dict[str, str]:
        if headers.get("x-api-key") != self.api_key:
            raise _ApiError(401, "invalid or missing X-API-Key")
        return {"accessToken": self._issue_token()}

    def _token_v3(self, headers: Mapping[str, str]) -> dict[str, str]:
        key_id, key = headers.get("x-api-key-id"), headers.get("x-api-key")
        if key_id != self.api_key_id or key != self.api_key:
            raise _ApiError(403, "invalid or missing X-API-Key-ID / X-API-Key")
        return {"accessToken": self._issue_token()}

    def _issue_token(self) -> str:
        token = self.issue_token()
        with self._lock:
            self._tokens.add(token)
            self.issued_tokens.append(token)
        return token

    def _authorize(self, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            valid = scheme.lower() == "bearer" and token.strip() in self._tokens
        if not valid:
            raise _ApiError(401, "missing, invalid or expired access token")

    def _list_runs(self, query: Mapping[str, str], now: pendulum.DateTime) -> Any:
        start, end = _parse_window(query, now)
        plans = self._plans_between(start, end, now)
        kept = plans[max(0, len(plans) - self.runs_cap) :]  # the vendor keeps the latest ones
        return self._listing("runs", [_run_summary(plan, now) for plan in kept])

    def _existing_run(self, run_id: str, now: pendulum.DateTime) -> _RunPlan:
        plan = self._find_run(run_id, now)
        if plan is None or plan.start < now - RETENTION:
            raise _ApiError(404, f"job run {run_id} not found")
        return plan

    def _steps(self, plan: _RunPlan, now: pendulum.DateTime) -> list[dict[str, Any]]:
        return [_step_view(plan, step, now) for step in plan.steps]

    def _step_detail(
        self, plan: _RunPlan, step_name: str, now: pendulum.DateTime
    ) -> dict[str, Any]:
        step = next((s for s in plan.steps if s.spec.name == step_name), None)
        if step is None:
            raise _ApiError(404, f"step {step_name!r} not found in job run {plan.run_id}")
        stdout, stderr = _step_logs(plan, step, self.seed, now, self.log_bytes)
        return _step_view(plan, step, now) | {"stdout": stdout, "stderr": stderr}

    def _listing(self, key: str, items: list[dict[str, Any]]) -> Any:
        return {key: items} if self.wrap_lists else items


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json"}


_App = Callable[[str, str, Mapping[str, str]], _Response]


class _Server(ThreadingHTTPServer):
    """Closing it also closes kept-alive connections, whose threads would otherwise go on
    answering after ``stop()`` and hide an outage from the client being tested."""

    daemon_threads = True

    def __init__(self, app: _App, port: int) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_close(self) -> None:
        super().server_close()
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """HTTP plumbing only; the sandbox decides every answer."""

    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections, as with the vendor
    # Headers and body go out in two writes; with Nagle's algorithm on, the body would wait
    # ~40 ms for the client's delayed ACK on every kept-alive response (found by bench/).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        # Drain any body so that the next request on this kept-alive connection parses.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.app(self.command, self.path, headers)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("snowplow sandbox: " + format, *args)
