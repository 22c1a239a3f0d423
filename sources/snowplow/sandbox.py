"""A loopback emulator of the Snowplow BDP jobs API (``vendor-docs/snowplow-jobs-api.txt``).

Routes and answers only; the history is ``sandbox_history.py``'s, and the server, clock, latency
and faults are the shared kit's. It enforces what the vendor documents: token exchange (v2 and
v3), bearer tokens, windows of at most 96 hours inside the last 7 days with both bounds of one
type, and the trimming of a window to its latest ``runs_cap`` runs. "Now" is the kit's clock,
which follows the wall clock, so tests move sandbox and client together with ``time-machine``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

import pendulum
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.shared.sandbox import ApiError, Sandbox, SandboxClock
from jobpulse.sources.snowplow.sandbox_event_specs import EVENT_SPEC_RULES, EventSpecEndpoints
from jobpulse.sources.snowplow.sandbox_history import (
    DEFAULT_JOBS,
    JobSpec,
    RunPlan,
    StepSpec,
    plan_run,
    run_view,
    schedule,
    step_logs,
    step_view,
)

__all__ = ["DEFAULT_JOBS", "JobSpec", "SnowplowSandbox", "StepSpec"]

DEFAULT_ORGANIZATION_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_API_KEY_ID = "sandbox-api-key-id"

MAX_WINDOW = pendulum.duration(hours=96)
RETENTION = pendulum.duration(days=7)

_ORGANIZATION = "/api/msc/v1/organizations/<organization_id>"
_RUNS = _ORGANIZATION + "/jobs/v1/runs"
_ISO_DURATION = re.compile(
    r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)


class SourceSettings(TypedDict):
    """`snowplow_source` arguments: where the API is and the credentials it accepts."""

    organization_id: str
    api_key: str
    api_key_id: str
    base_url: str


class SnowplowSandbox(EventSpecEndpoints, Sandbox):
    """The emulated jobs API; see the module docstring for what it enforces."""

    vendor = "Snowplow"
    url_map = Map(
        [
            Rule(_ORGANIZATION + "/credentials/v2/token", endpoint="token_v2", methods=["GET"]),
            Rule(_ORGANIZATION + "/credentials/v3/token", endpoint="token_v3", methods=["GET"]),
            Rule(_RUNS, endpoint="runs", methods=["GET"]),
            Rule(_RUNS + "/<run_id>", endpoint="run", methods=["GET"]),
            Rule(_RUNS + "/<run_id>/steps", endpoint="steps", methods=["GET"]),
            # A step name may hold a (percent-encoded) slash: the rest of the path is the name.
            Rule(_RUNS + "/<run_id>/steps/<path:step_name>", endpoint="step", methods=["GET"]),
            *EVENT_SPEC_RULES,
        ]
    )

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
        end_times: bool = False,
        log_bytes: int = 2048,
        port: int = 0,
        clock: SandboxClock | None = None,
        issue_token: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(port=port, latency_seconds=latency_seconds, clock=clock)
        if runs_cap < 1:
            raise ValueError("runs_cap must be at least 1")
        self.organization_id = organization_id
        self.api_key = api_key
        self.api_key_id = api_key_id
        self.jobs = tuple(jobs)
        self.seed = seed
        self.runs_cap = runs_cap
        self.wrap_lists = wrap_lists
        self.end_times = end_times
        self.log_bytes = log_bytes
        self.issue_token = issue_token or (lambda: secrets.token_urlsafe(32))
        self.issued_tokens: list[str] = []
        self._tokens: set[str] = set()
        self._tokens_lock = threading.Lock()
        self._runs_by_id: dict[str, RunPlan] = {}

    def secrets(self) -> list[str]:
        return [self.api_key, self.api_key_id, *self.issued_tokens]

    def source_settings(self) -> SourceSettings:
        """The `snowplow_source` arguments that point jobpulse at this sandbox (v3 token flow)."""
        return {
            "organization_id": self.organization_id,
            "api_key": self.api_key,
            "api_key_id": self.api_key_id,
            "base_url": self.base_url,
        }

    def expire_tokens(self) -> None:
        with self._tokens_lock:
            self._tokens.clear()

    # the truth, for tests

    def runs_started_between(
        self, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[dict[str, Any]]:
        """Every run started within ``[start, end]`` as the API shows it now, retention aside."""
        now = self.clock.now()
        return [self._run(plan, now) for plan in self._plans_between(start, end, now)]

    def steps_of(self, run_id: str) -> list[dict[str, Any]]:
        """The steps of a run as the API shows them now; ``KeyError`` for an unknown run."""
        now = self.clock.now()
        plan = self._find_run(run_id, now)
        if plan is None:
            raise KeyError(run_id)
        return self._steps(plan, now)

    # endpoints

    def on_token_v2(self, request: Request, organization_id: str) -> Any:
        self._check_organization(organization_id)
        if request.headers.get("X-API-Key") != self.api_key:
            raise ApiError(401, "invalid or missing X-API-Key")
        return {"accessToken": self._issue_token()}

    def on_token_v3(self, request: Request, organization_id: str) -> Any:
        self._check_organization(organization_id)
        key_id, key = request.headers.get("X-API-Key-ID"), request.headers.get("X-API-Key")
        if key_id != self.api_key_id or key != self.api_key:
            raise ApiError(403, "invalid or missing X-API-Key-ID / X-API-Key")
        return {"accessToken": self._issue_token()}

    def on_runs(self, request: Request, organization_id: str) -> Any:
        now = self._authorized(request, organization_id)
        start, end = _parse_window(request.args, now)
        plans = self._plans_between(start, end, now)
        kept = plans[max(0, len(plans) - self.runs_cap) :]  # the vendor keeps the latest ones
        return self._listing("runs", [self._run(plan, now) for plan in kept])

    def on_run(self, request: Request, organization_id: str, run_id: str) -> Any:
        now = self._authorized(request, organization_id)
        plan = self._existing_run(run_id, now)
        return self._run(plan, now) | {"steps": self._steps(plan, now)}

    def on_steps(self, request: Request, organization_id: str, run_id: str) -> Any:
        now = self._authorized(request, organization_id)
        return self._listing("steps", self._steps(self._existing_run(run_id, now), now))

    def on_step(self, request: Request, organization_id: str, run_id: str, step_name: str) -> Any:
        now = self._authorized(request, organization_id)
        plan = self._existing_run(run_id, now)
        step = next((s for s in plan.steps if s.spec.name == step_name), None)
        if step is None:
            raise ApiError(404, f"step {step_name!r} not found in job run {plan.run_id}")
        stdout, stderr = step_logs(plan, step, self.seed, now, self.log_bytes)
        return step_view(plan, step, now, self.end_times) | {"stdout": stdout, "stderr": stderr}

    # helpers

    def _check_organization(self, organization_id: str) -> None:
        if organization_id != self.organization_id:
            raise ApiError(404, f"organization {organization_id} not found")

    def _authorized(self, request: Request, organization_id: str) -> pendulum.DateTime:
        """Check the organisation and the bearer token; return "now" for the answer."""
        self._check_organization(organization_id)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._tokens_lock:
            valid = scheme.lower() == "bearer" and token.strip() in self._tokens
        if not valid:
            raise ApiError(401, "missing, invalid or expired access token")
        return self.clock.now()

    def _issue_token(self) -> str:
        token = self.issue_token()
        with self._tokens_lock:
            self._tokens.add(token)
            self.issued_tokens.append(token)
        return token

    def _run(self, plan: RunPlan, now: pendulum.DateTime) -> dict[str, Any]:
        return run_view(plan, now, self.seed, self.end_times)

    def _steps(self, plan: RunPlan, now: pendulum.DateTime) -> list[dict[str, Any]]:
        return [step_view(plan, step, now, self.end_times) for step in plan.steps]

    def _plans_between(
        self, start: pendulum.DateTime, end: pendulum.DateTime, now: pendulum.DateTime
    ) -> list[RunPlan]:
        last = min(end, now)
        plans = [
            plan_run(job, self.seed, scheduled)
            for job in self.jobs
            for scheduled in schedule(job, start, last)
        ]
        plans.sort(key=lambda plan: (plan.start, plan.job.job_id))
        with self._tokens_lock:
            self._runs_by_id.update((plan.run_id, plan) for plan in plans)
        return plans

    def _find_run(self, run_id: str, now: pendulum.DateTime) -> RunPlan | None:
        """A run by id; ids never listed before are searched for within the retention."""
        if run_id not in self._runs_by_id:
            self._plans_between(now - RETENTION, now, now)
        plan = self._runs_by_id.get(run_id)
        return plan if plan is not None and plan.start <= now else None

    def _existing_run(self, run_id: str, now: pendulum.DateTime) -> RunPlan:
        plan = self._find_run(run_id, now)
        if plan is None or plan.start < now - RETENTION:
            raise ApiError(404, f"job run {run_id} not found")
        return plan

    def _listing(self, key: str, items: list[dict[str, Any]]) -> Any:
        return {key: items} if self.wrap_lists else items


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
        raise ApiError(400, f"`{name}` must be an ISO-8601 timestamp or duration, got {text!r}")
    return "timestamp", parsed.in_tz("UTC")


def _parse_window(
    query: Mapping[str, str], now: pendulum.DateTime
) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    missing = [name for name in ("from", "to") if not query.get(name)]
    if missing:
        raise ApiError(400, f"missing required query parameter(s): {', '.join(missing)}")
    from_kind, start = _parse_bound("from", query["from"], now)
    to_kind, end = _parse_bound("to", query["to"], now)
    if from_kind != to_kind:
        raise ApiError(400, "`from` and `to` must both be timestamps or both be durations")
    if start > end:
        raise ApiError(400, "`from` must not be after `to`")
    if end - start > MAX_WINDOW:
        raise ApiError(400, "the requested time window cannot exceed 96 hours")
    if start < now - RETENTION:
        raise ApiError(400, "the requested time window cannot start earlier than 1 week ago")
    return start, end
