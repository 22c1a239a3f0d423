"""A loopback emulator of the Tailer API (``vendor-docs/tailer-api.txt``) on the sandbox kit.

The four documented POST endpoints answer their actions with the documented payload shapes.
Run history is a pure function of ``(operations, seed, now)``: each operation starts runs at
epoch-aligned multiples of its interval (plus an offset); everything about one run (its id,
duration and outcome) comes from a ``random.Random`` seeded with ``(seed, operation, start)``.
A run is RUNNING until now passes its end, then SUCCESS, FAILED, "Checked" or "No match".
Runs started with ``launch_job`` are added to that history.

What the sandbox holds to, as the vendor documents or plausibly does:
- a table-to-table id is known only with its ``_<ENVIRONMENT>`` suffix (the doc's warning);
  ``get_last_status`` lists it as ``gbq-to-gbq``, ``check_run_status`` echoes the request's type;
- storage-to-storage runs start on whole seconds, two files at once (identical start times),
  have no ``last_update_date`` and run ids ``YYYYMMDD-<uuid>``;
- workflows run longer than a day (``1 day, 3:04:05.000000``) and may end "No match";
- ``limit`` (at most 1000, default 10), ``status`` and ``execution_date`` (a UTC day) are honoured.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pendulum
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.shared.sandbox import ApiError, Sandbox

DEFAULT_JWT = "sandbox-tailer-jwt"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
HISTORY_DAYS = 90  # runs older than this are gone from the API

_ACTIONS = {
    "launch": ("launch_job",),
    "status": ("get_last_status", "check_run_status"),
    "workflow_status": ("reset_workflow_status",),
    "configuration_status": ("set_configuration_status",),
}
_IDENTITY = ("account", "environment", "configuration_type", "configuration_id")
_LISTED_TYPE = {"table-to-table": "gbq-to-gbq"}


@dataclass(frozen=True)
class OperationSpec:
    """One data operation, named as the API knows it (table-to-table ids with the suffix)."""

    account: str
    environment: str
    configuration_type: str
    configuration_id: str
    every: pendulum.Duration
    offset: pendulum.Duration
    mean_seconds: float
    failure_rate: float = 0.1
    checked_share: float = 0.5  # of failed runs, those marked fixed by hand: "Checked"
    no_match_rate: float = 0.0
    runs_per_start: int = 1  # files picked up at once: runs with identical start times
    whole_seconds: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.environment, self.configuration_type, self.configuration_id)

    @property
    def job_id(self) -> str:
        if self.configuration_type == "storage-to-storage":
            return (
                f"storage-to-storage|{self.account}|{self.configuration_id}|{self.environment}"
                "|stores-{{FD_DATE}}-{{FD_TIME}}.csv"
            )
        listed = _LISTED_TYPE.get(self.configuration_type, self.configuration_type)
        return f"{listed}|{self.configuration_id}"


DEFAULT_OPERATIONS: tuple[OperationSpec, ...] = (
    OperationSpec(
        account="000099",
        environment="DEV",
        configuration_type="table-to-table",
        configuration_id="000099_iowa_liquor_prepare_pda_DEV",
        every=pendulum.duration(hours=1),
        offset=pendulum.duration(minutes=5),
        mean_seconds=90,
        failure_rate=0.15,
    ),
    OperationSpec(
        account="000099",
        environment="DEV",
        configuration_type="storage-to-storage",
        configuration_id="000099-jarvis-demo-iowa-liquor-storage-to-storage",
        every=pendulum.duration(hours=3),
        offset=pendulum.duration(minutes=17, seconds=18),
        mean_seconds=4,
        failure_rate=0.05,
        runs_per_start=2,
        whole_seconds=True,
    ),
    OperationSpec(
        account="000099",
        environment="DEV",
        configuration_type="workflow",
        configuration_id="000099-iowa-liquor-load-pda",
        every=pendulum.duration(days=2),
        offset=pendulum.duration(hours=3),
        mean_seconds=27 * 3600,
        failure_rate=0.1,
        no_match_rate=0.2,
    ),
)


@dataclass
class _Run:
    spec: OperationSpec
    run_id: str
    start: pendulum.DateTime
    seconds: float
    outcome: str

    def view(self, now: pendulum.DateTime, configuration_type: str) -> dict[str, Any]:
        elapsed = timedelta(microseconds=round(self.seconds * 1e6))
        end = self.start + elapsed
        running = now < end
        payload: dict[str, Any] = {
            "account": self.spec.account,
            "configuration_id": self.spec.configuration_id,
            "configuration_type": configuration_type,
            # Python's str(timedelta): `0:01:24.002519`, `1 day, 3:04:05.000001`
            "duration": None if running else str(elapsed),
            "environment": self.spec.environment,
            "job_id": self.spec.job_id,
            "run_id": self.run_id,
            "start_execution_date": self.start.isoformat(),
            "status": "RUNNING" if running else self.outcome,
        }
        if not self.spec.whole_seconds:
            payload["last_update_date"] = min(now, end).isoformat()
        return payload


class TailerSandbox(Sandbox):
    """The Tailer API on 127.0.0.1: POST actions, bearer JWT, a deterministic run history."""

    vendor: ClassVar[str] = "Tailer"
    url_map = Map(
        [
            Rule("/v1/dag/launch", endpoint="launch", methods=["POST"]),
            Rule("/v1/dag/status", endpoint="status", methods=["POST"]),
            Rule("/v1/workflow/status", endpoint="workflow_status", methods=["POST"]),
            Rule("/v1/configuration/status", endpoint="configuration_status", methods=["POST"]),
        ],
        strict_slashes=False,
    )

    def __init__(
        self,
        *,
        operations: Sequence[OperationSpec] = DEFAULT_OPERATIONS,
        seed: int = 7,
        jwt: str = DEFAULT_JWT,
        launch_status: str = "SUCCESS",
        launch_seconds: float = 60.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.operations = tuple(operations)
        self.seed = seed
        self.jwt = jwt
        self.launch_status = launch_status
        self.launch_seconds = launch_seconds
        self.launched: dict[tuple[str, str, str, str], list[_Run]] = {}
        self.configuration_status: dict[tuple[str, str, str, str], dict[str, bool]] = {}
        self.workflow_resets: list[tuple[str, str, str, str]] = []

    # what jobpulse is pointed at

    def secrets(self) -> list[str]:
        return [self.jwt]

    def source_settings(self) -> dict[str, Any]:
        """Settings for `tailer_source`: ids written as users write them (no `_ENV`)."""
        return {
            "base_url": self.base_url,
            "jwt": self.jwt,
            "jobs": json.dumps([user_job(spec) for spec in self.operations]),
        }

    # the kit's hooks

    def error_body(self, status: int, message: str) -> Any:
        return {"code": status, "data": {}, "message": message}

    def unauthorized_message(self) -> str:
        return "Unauthorized: invalid or expired token"

    # handlers

    def on_launch(self, request: Request) -> Any:
        body = self._body(request, "launch")
        spec = self._spec(body)
        if spec is None:
            raise ApiError(404, f"configuration {body['configuration_id']} not found")
        now = self.clock.now()
        run = _Run(
            spec, _run_id(spec, now, uuid.uuid4()), now, self.launch_seconds, self.launch_status
        )
        self.launched.setdefault(spec.key, []).append(run)
        return {"run_id": run.run_id}

    def on_status(self, request: Request) -> Any:
        body = self._body(request, "status")
        spec = self._spec(body)
        now = self.clock.now()
        if body["action"] == "check_run_status":
            for name in ("job_id", "run_id"):
                if not isinstance(body.get(name), str):
                    raise ApiError(400, f"{name} is required")
            if spec is None or body["job_id"] != spec.job_id:
                return {"results": []}
            run = self._find(spec, body["run_id"], now)
            return {"results": [run.view(now, spec.configuration_type)] if run else []}
        limit = body.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        if spec is None:
            return {"results": []}
        day = _day(body.get("execution_date"))
        listed_type = _LISTED_TYPE.get(spec.configuration_type, spec.configuration_type)
        results = []
        for run in self._runs_newest_first(spec, now, day):
            view = run.view(now, listed_type)
            if body.get("status") in (None, view["status"]):
                results.append(view)
                if len(results) == limit:
                    break
        return {"results": results}

    def on_workflow_status(self, request: Request) -> Any:
        body = self._body(request, "workflow_status")
        spec = self._spec(body)
        if spec is None or spec.configuration_type != "workflow":
            raise ApiError(404, "KO: no such workflow")
        self.workflow_resets.append(spec.key)
        return {"code": 200, "data": {}, "message": "ok"}

    def on_configuration_status(self, request: Request) -> Any:
        body = self._body(request, "configuration_status")
        spec = self._spec(body)
        flags = {name: body.get(name) for name in ("activated", "archived")}
        if not all(isinstance(value, bool) for value in flags.values()):
            raise ApiError(400, "activated and archived must be true or false")
        if spec is None:
            raise ApiError(404, "KO: no such configuration")
        self.configuration_status[spec.key] = flags  # type: ignore[assignment]
        return {"message": "ok"}

    # history

    def runs_between(
        self, start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[dict[str, Any]]:
        """Every run (as get_last_status lists it now) that started in [start, end]."""
        now = self.clock.now()
        views = []
        for spec in self.operations:
            listed_type = _LISTED_TYPE.get(spec.configuration_type, spec.configuration_type)
            for run in self._runs_newest_first(spec, now, None):
                if run.start < start:
                    break
                if run.start <= end:
                    views.append(run.view(now, listed_type))
        return views

    def _runs_newest_first(
        self, spec: OperationSpec, now: pendulum.DateTime, day: pendulum.Date | None
    ) -> Iterator[_Run]:
        first_day = now.subtract(days=HISTORY_DAYS).date()
        current = now.date() if day is None else day
        while current >= first_day and current <= now.date():
            runs = [r for r in self._runs_of_day(spec, current) if r.start <= now]
            runs += [r for r in self.launched.get(spec.key, []) if r.start.date() == current]
            yield from sorted(runs, key=lambda r: (r.start, r.run_id), reverse=True)
            if day is not None:
                return
            current = current.subtract(days=1)

    def _runs_of_day(self, spec: OperationSpec, day: pendulum.Date) -> list[_Run]:
        every = spec.every.total_seconds()
        day_start = pendulum.datetime(day.year, day.month, day.day, tz="UTC")
        first = -((spec.offset.total_seconds() - day_start.timestamp()) // every)
        runs = []
        slot = first
        while True:
            start = pendulum.from_timestamp(slot * every + spec.offset.total_seconds(), tz="UTC")
            if start.date() != day:
                break
            runs.extend(self._runs_at(spec, start))
            slot += 1
        return runs

    def _runs_at(self, spec: OperationSpec, slot_start: pendulum.DateTime) -> list[_Run]:
        runs = []
        for index in range(spec.runs_per_start):
            rng = random.Random(f"{self.seed}|{'|'.join(spec.key)}|{slot_start}|{index}")
            start = slot_start
            if not spec.whole_seconds:
                start = start.add(microseconds=rng.randrange(1_000_000, 9_000_000))
            seconds = spec.mean_seconds * rng.uniform(0.7, 1.3) + rng.random()
            run_id = _run_id(spec, start, uuid.UUID(int=rng.getrandbits(128), version=4))
            runs.append(_Run(spec, run_id, start, seconds, _outcome(spec, rng)))
        return runs

    def _find(self, spec: OperationSpec, run_id: str, now: pendulum.DateTime) -> _Run | None:
        try:
            day = pendulum.from_format(run_id[:8], "YYYYMMDD", tz="UTC").date()
        except ValueError:
            return None
        for run in self._runs_newest_first(spec, now, day):
            if run.run_id == run_id:
                return run
        return None

    # requests

    def _body(self, request: Request, endpoint: str) -> dict[str, Any]:
        if request.headers.get("Authorization") != f"Bearer {self.jwt}":
            raise ApiError(401, self.unauthorized_message())
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        if body.get("action") not in _ACTIONS[endpoint]:
            raise ApiError(400, f"unknown action {body.get('action')!r} for {request.path}")
        for name in _IDENTITY:
            if not isinstance(body.get(name), str) or not body[name]:
                raise ApiError(400, f"{name} is required")
        return body

    def _spec(self, body: dict[str, Any]) -> OperationSpec | None:
        key = tuple(body[name] for name in _IDENTITY)
        return next((spec for spec in self.operations if spec.key == key), None)


def user_job(spec: OperationSpec) -> dict[str, str]:
    """The operation as a user writes it in SOURCES__TAILER__JOBS: no `_ENV` on the id."""
    configuration_id = spec.configuration_id
    suffix = f"_{spec.environment}"
    if spec.configuration_type == "table-to-table" and configuration_id.endswith(suffix):
        configuration_id = configuration_id[: -len(suffix)]
    return {
        "account": spec.account,
        "environment": spec.environment,
        "configuration_type": spec.configuration_type,
        "configuration_id": configuration_id,
    }


def _run_id(spec: OperationSpec, start: pendulum.DateTime, unique: uuid.UUID) -> str:
    if spec.configuration_type == "storage-to-storage":
        return f"{start:%Y%m%d}-{unique}"
    return f"{start:%Y%m%d-%H%M%S}-{unique}"


def _outcome(spec: OperationSpec, rng: random.Random) -> str:
    draw = rng.random()
    if draw < spec.no_match_rate:
        return "No match"
    if draw < spec.no_match_rate + spec.failure_rate:
        return "Checked" if rng.random() < spec.checked_share else "FAILED"
    return "SUCCESS"


def _day(value: Any) -> pendulum.Date | None:
    if value is None:
        return None
    try:
        return pendulum.from_format(str(value), "YYYY-MM-DD", tz="UTC").date()
    except ValueError:
        raise ApiError(400, f"execution_date must be YYYY-MM-DD, got {value!r}") from None
