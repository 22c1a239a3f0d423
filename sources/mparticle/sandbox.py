"""A loopback emulator of the mParticle Warehouse Sync API
(``vendor-docs/mparticle-warehouse-sync-api.txt``), on the shared sandbox kit.

Serves the OAuth token URL (``POST /oauth/token``, JSON body) and, under
``/{api_path}/workspaces/{workspace_id}/inputs/warehouse``, connections, data models, pipelines,
pipeline status, runs (paged with ``currentPage``/``pageSize`` <= 100, narrowed by
``startDate``/``endDate`` on ``logical_date``), one run by id, and the trigger.

History is a pure function of (pipelines, seed, start, now): scheduled runs exist for every
interval since ``start - history``; each run goes ``triggered`` or ``dataset_triggered`` ->
``queued`` -> ``running`` -> ``success``/``failed`` as the clock passes its planned times.
``opened_at`` is the sandbox's clock when created; a pipeline can be faulted until, or deleted at,
an offset from it. Triggered runs are the only thing the sandbox remembers. Knobs: the v2
spelling (``api_path="platform/v2"``), counts as strings, the first page number, token lifetime,
the values of credential fields; plus the kit's latency and faults.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pendulum
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.mparticle.settings import TOKEN_AUDIENCE, TOKEN_GRANT_TYPE
from jobpulse.sources.shared.sandbox import ApiError, Sandbox
from jobpulse.sources.shared.timeutil import iso_z

DEFAULT_WORKSPACE_ID = "5328"
DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
MASKED = "************"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25

_BASE = "/platform/<version>/workspaces/<workspace_id>/inputs/warehouse"
_INTERVALS = {"hourly": 3600, "daily": 86_400}
_AUTHOR = "developer@mparticle.com"
# Seconds a run spends in each state before it runs: first state, then queued.
_FIRST_STATE_SECONDS = 20
_QUEUED_SECONDS = 40
_TRIGGERED_RUN_SECONDS = 300
_FAULT_LEAD = pendulum.duration(hours=3)  # a faulted pipeline's runs fail for this long before


@dataclass(frozen=True)
class PipelineSpec:
    """One pipeline. Offsets (``faulted_for``, ``deleted_after``) count from the sandbox's start."""

    id: str
    name: str
    schedule_interval: str  # hourly, daily or on_demand
    failure_rate: float = 0.0
    run_minutes: tuple[float, float] = (5.0, 40.0)
    partner_feed_id: int = 2124
    environment: str = "development"
    is_active: bool = True
    faulted_for: pendulum.Duration | None = None
    deleted_after: pendulum.Duration | None = None
    trigger_succeeds: bool = True


DEFAULT_PIPELINES: tuple[PipelineSpec, ...] = (
    PipelineSpec("example-pipeline", "Example Pipeline", "hourly", failure_rate=0.25),
    PipelineSpec(
        "example-pipeline-2",
        "Example Pipeline 2",
        "hourly",
        partner_feed_id=2197,
        faulted_for=pendulum.duration(hours=1),
    ),
    PipelineSpec(
        "retired-pipeline",
        "Retired Pipeline",
        "daily",
        run_minutes=(60.0, 90.0),
        deleted_after=pendulum.duration(hours=1),
    ),
    PipelineSpec("on-demand-pipeline", "On-demand Pipeline", "on_demand"),
    PipelineSpec("on-demand-failing", "On-demand Failing", "on_demand", trigger_succeeds=False),
)

FAULTED_REASON = "Unable to connect to the warehouse: invalid credentials for user mp_user"


class SourceSettings(TypedDict):
    """`mparticle_source` arguments that point jobpulse at a sandbox."""

    base_url: str
    token_url: str
    workspace_id: str
    client_id: str
    client_secret: str
    api_path: str


@dataclass(frozen=True)
class _Run:
    """One run's plan, independent of "now"; its state is derived from it per request."""

    run_id: int
    pipeline: PipelineSpec
    logical_date: pendulum.DateTime
    interval_end: pendulum.DateTime
    created: pendulum.DateTime
    started: pendulum.DateTime
    ended: pendulum.DateTime
    succeeds: bool
    first_state: str
    manual: bool
    records: int


@dataclass
class _Triggered:
    runs: list[_Run] = field(default_factory=list)


class MparticleSandbox(Sandbox):
    vendor = "mParticle"
    url_map = Map(
        [
            Rule("/oauth/token", endpoint="token", methods=["POST"]),
            Rule(f"{_BASE}/connections", endpoint="connections", methods=["GET"]),
            Rule(f"{_BASE}/connections/<item_id>", endpoint="connection", methods=["GET"]),
            Rule(f"{_BASE}/data-models", endpoint="data_models", methods=["GET"]),
            Rule(f"{_BASE}/data-models/<item_id>", endpoint="data_model", methods=["GET"]),
            Rule(f"{_BASE}/pipelines", endpoint="pipelines", methods=["GET"]),
            Rule(f"{_BASE}/pipelines/<pipeline_id>", endpoint="pipeline", methods=["GET"]),
            Rule(f"{_BASE}/pipelines/<pipeline_id>", endpoint="trigger", methods=["POST"]),
            Rule(f"{_BASE}/pipelines/<pipeline_id>/status", endpoint="status", methods=["GET"]),
            Rule(f"{_BASE}/pipelines/<pipeline_id>/status/runs", endpoint="runs", methods=["GET"]),
            Rule(
                f"{_BASE}/pipelines/<pipeline_id>/status/runs/<run_id>",
                endpoint="run",
                methods=["GET"],
            ),
        ]
    )

    def __init__(
        self,
        *,
        pipelines: Sequence[PipelineSpec] = DEFAULT_PIPELINES,
        api_path: str = "platform/experimental",
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        issue_token: Callable[[], str] | None = None,
        token_lifetime_seconds: int = 28_800,
        credential_value: str = MASKED,
        string_counts: bool = True,
        first_page: int = 1,
        history: pendulum.Duration | None = None,
        seed: int = 7,
        **kit: Any,
    ) -> None:
        super().__init__(**kit)
        self.pipelines = tuple(pipelines)
        self.api_path = api_path
        self.version = api_path.split("/", 1)[1]
        self.workspace_id = workspace_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.issue_token = issue_token or (lambda: secrets.token_urlsafe(24))
        self.token_lifetime_seconds = token_lifetime_seconds
        self.credential_value = credential_value
        self.string_counts = string_counts
        self.first_page = first_page
        self.seed = seed
        self.opened_at = self.clock.now()
        self.history_start = self.opened_at.start_of("hour") - (
            history or pendulum.duration(hours=48)
        )
        self.issued_tokens: list[str] = []
        self._tokens: dict[str, pendulum.DateTime] = {}
        self._triggered: dict[str, _Triggered] = {}
        self._next_trigger_id = 900_000_001

    @property
    def v2(self) -> bool:
        return self.version == "v2"

    def secrets(self) -> list[str]:
        return [self.client_secret, self.credential_value, *self.issued_tokens]

    def source_settings(self) -> SourceSettings:
        return {
            "base_url": self.base_url,
            "token_url": f"{self.base_url}/oauth/token",
            "workspace_id": self.workspace_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "api_path": self.api_path,
        }

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # the vendor's shapes

    def error_body(self, status: int, message: str) -> Any:
        return {"statusCode": status, "errors": [{"message": message}]}

    def unauthorized_message(self) -> str:
        return "Unauthorized: the access token is missing, invalid or expired"

    # truth, for tests

    def listed_pipelines(self) -> list[PipelineSpec]:
        now = self.clock.now()
        return [spec for spec in self.pipelines if not self._deleted(spec, now)]

    def runs_of(self, pipeline_id: str) -> list[dict[str, Any]]:
        """Every run of a pipeline as the API shows it now."""
        now = self.clock.now()
        spec = self._pipeline(pipeline_id, now)
        return [self._run_view(run, now) for run in self._runs(spec, now)]

    def is_faulted(self, pipeline_id: str) -> bool:
        spec = next(spec for spec in self.pipelines if spec.id == pipeline_id)
        return self._faulted(spec, self.clock.now())

    # endpoints

    def on_token(self, request: Request) -> Any:
        body = request.get_json(silent=True) or {}
        expected = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "audience": TOKEN_AUDIENCE,
            "grant_type": TOKEN_GRANT_TYPE,
        }
        if any(body.get(name) != value for name, value in expected.items()):
            raise ApiError(401, "access_denied: invalid client credentials")
        token = self.issue_token()
        with self._lock:
            self._tokens[token] = self.clock.now().add(seconds=self.token_lifetime_seconds)
            self.issued_tokens.append(token)
        return {
            "access_token": token,
            "expires_in": self.token_lifetime_seconds,
            "token_type": "Bearer",
        }

    def on_connections(self, request: Request, version: str, workspace_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        return [self._connection(i) for i in (1, 2)]

    def on_connection(self, request: Request, version: str, workspace_id: str, item_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        found = [c for c in (self._connection(1), self._connection(2)) if c["id"] == item_id]
        if not found:
            raise ApiError(404, f"Connection {item_id} not found.")
        return found[0]

    def on_data_models(self, request: Request, version: str, workspace_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        return [self._data_model(i) for i in (1, 2, 3)]

    def on_data_model(self, request: Request, version: str, workspace_id: str, item_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        found = [m for m in (self._data_model(i) for i in (1, 2, 3)) if m["id"] == item_id]
        if not found:
            raise ApiError(404, f"Data model {item_id} not found.")
        return found[0]

    def on_pipelines(self, request: Request, version: str, workspace_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        return [self._pipeline_view(spec, now) for spec in self.listed_pipelines()]

    def on_pipeline(
        self, request: Request, version: str, workspace_id: str, pipeline_id: str
    ) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        return self._pipeline_view(self._pipeline(pipeline_id, now), now)

    def on_trigger(
        self, request: Request, version: str, workspace_id: str, pipeline_id: str
    ) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        spec = self._pipeline(pipeline_id, now)
        with self._lock:
            if any(not self._terminal(run, now) for run in self._runs(spec, now)):
                raise ApiError(400, f"Pipeline {pipeline_id} is already in progress.")
            run = _Run(
                run_id=self._next_trigger_id,
                pipeline=spec,
                logical_date=now,
                interval_end=now,
                created=now,
                started=now.add(seconds=_FIRST_STATE_SECONDS + _QUEUED_SECONDS),
                ended=now.add(seconds=_FIRST_STATE_SECONDS + _QUEUED_SECONDS).add(
                    seconds=_TRIGGERED_RUN_SECONDS
                ),
                succeeds=spec.trigger_succeeds,
                first_state="triggered",
                manual=True,
                records=1376,
            )
            self._next_trigger_id += 1
            self._triggered.setdefault(spec.id, _Triggered()).runs.append(run)
        return {"pipeline_run_id": run.run_id, "status": "trigger_requested"}

    def on_status(self, request: Request, version: str, workspace_id: str, pipeline_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        spec = self._pipeline(pipeline_id, now)
        faulted = self._faulted(spec, now)
        runs = self._runs(spec, now)
        status: dict[str, Any] = {
            "pipeline_id": spec.id,
            "workspace_id": int(self.workspace_id),
            **self._health("is_faulted", faulted),
            **self._health("is_connection_faulted", faulted),
            "is_connection_active": True,
            "is_active": spec.is_active,
        }
        if runs:
            latest = max(runs, key=lambda run: (run.logical_date, run.run_id))
            status["latest_pipeline_run"] = self._run_view(latest, now)
        return status

    def on_runs(self, request: Request, version: str, workspace_id: str, pipeline_id: str) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        spec = self._pipeline(pipeline_id, now)
        page = _int_arg(request, "currentPage", self.first_page)
        size = _int_arg(request, "pageSize", DEFAULT_PAGE_SIZE)
        if page < self.first_page:
            raise ApiError(400, f"currentPage must be at least {self.first_page}.")
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ApiError(400, f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
        start = _date_arg(request, "startDate")
        end = _date_arg(request, "endDate")
        runs = [
            run
            for run in self._runs(spec, now)
            if (start is None or run.logical_date >= start)
            and (end is None or run.logical_date <= end)
        ]
        offset = (page - self.first_page) * size
        return {"items": [self._run_view(run, now) for run in runs[offset : offset + size]]}

    def on_run(
        self, request: Request, version: str, workspace_id: str, pipeline_id: str, run_id: str
    ) -> Any:
        self._authorize(request, version, workspace_id)
        now = self.clock.now()
        spec = self._pipeline(pipeline_id, now)
        found = [run for run in self._runs(spec, now) if str(run.run_id) == run_id]
        if not found:
            raise ApiError(404, f"Pipeline run {run_id} not found.")
        return self._run_view(found[0], now)

    # auth and lookups

    def _authorize(self, request: Request, version: str, workspace_id: str) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or self.clock.now() >= expires:
            raise ApiError(401, self.unauthorized_message())
        if version != self.version:
            raise ApiError(404, f"platform/{version} is not served here.")
        if workspace_id != self.workspace_id:
            raise ApiError(404, f"Workspace {workspace_id} not found.")

    def _pipeline(self, pipeline_id: str, now: pendulum.DateTime) -> PipelineSpec:
        for spec in self.pipelines:
            if spec.id == pipeline_id and not self._deleted(spec, now):
                return spec
        raise ApiError(404, f"Pipeline {pipeline_id} not found.")

    def _deleted(self, spec: PipelineSpec, now: pendulum.DateTime) -> bool:
        return spec.deleted_after is not None and now >= self.opened_at + spec.deleted_after

    def _faulted(self, spec: PipelineSpec, now: pendulum.DateTime) -> bool:
        """Faulted from `_FAULT_LEAD` before the sandbox's start until `faulted_for` after it."""
        if spec.faulted_for is None:
            return False
        return self.opened_at - _FAULT_LEAD <= now < self.opened_at + spec.faulted_for

    def _health(self, v1_name: str, faulted: bool) -> dict[str, Any]:
        """`is_faulted` (v1) or `status` (v2); the connection's as `connection_status` in v2."""
        if not self.v2:
            return {v1_name: faulted}
        v2_name = "status" if v1_name == "is_faulted" else "connection_status"
        return {v2_name: "faulted" if faulted else "healthy"}

    # history

    def _runs(self, spec: PipelineSpec, now: pendulum.DateTime) -> list[_Run]:
        """The pipeline's runs created by `now`, in `logical_date` order."""
        runs = [run for run in self._scheduled(spec, now) if run.created <= now]
        runs += [run for run in self._triggered.get(spec.id, _Triggered()).runs]
        return sorted(runs, key=lambda run: (run.logical_date, run.run_id))

    def _scheduled(self, spec: PipelineSpec, now: pendulum.DateTime) -> list[_Run]:
        every = _INTERVALS.get(spec.schedule_interval)
        if every is None:
            return []
        first = -(-int(self.history_start.timestamp()) // every)
        last = int(now.timestamp()) // every
        return [self._plan(spec, k, every) for k in range(first, last)]

    def _plan(self, spec: PipelineSpec, k: int, every: int) -> _Run:
        rng = random.Random(f"{self.seed}|{spec.id}|{k}")
        logical = pendulum.from_timestamp(k * every, tz="UTC")
        interval_end = logical.add(seconds=every)
        created = interval_end.add(seconds=30, microseconds=rng.randrange(1000, 999_000, 10_000))
        started = created.add(seconds=_FIRST_STATE_SECONDS + _QUEUED_SECONDS)
        ended = started.add(seconds=round(rng.uniform(*spec.run_minutes) * 60))
        succeeds = rng.random() >= spec.failure_rate and not self._faulted(spec, created)
        index = self.pipelines.index(spec) + 1
        return _Run(
            run_id=index * 10_000_000 + k % 10_000_000,
            pipeline=spec,
            logical_date=logical,
            interval_end=interval_end,
            created=created,
            started=started,
            ended=ended,
            succeeds=succeeds,
            first_state=rng.choice(("triggered", "dataset_triggered")),
            manual=False,
            records=rng.randrange(100, 50_000),
        )

    def _state(self, run: _Run, now: pendulum.DateTime) -> str:
        if now >= run.ended:
            return "success" if run.succeeds else "failed"
        if now >= run.started:
            return "running"
        if now >= run.created.add(seconds=_FIRST_STATE_SECONDS):
            return "queued"
        return run.first_state

    def _terminal(self, run: _Run, now: pendulum.DateTime) -> bool:
        return now >= run.ended

    # views

    def _run_view(self, run: _Run, now: pendulum.DateTime) -> dict[str, Any]:
        state = self._state(run, now)
        terminal = self._terminal(run, now)
        success = terminal and run.succeeds
        counts: Any = None
        if success:
            counts = str(run.records) if self.string_counts else run.records
        modified = run.ended if terminal else (run.started if now >= run.started else run.created)
        return {
            "pipeline_run_id": run.run_id,
            "id": run.pipeline.id,
            "workspace_id": int(self.workspace_id),
            "logical_date": iso_z(run.logical_date),
            "start_date": iso_z(run.started) if now >= run.started else None,
            "end_date": iso_z(run.ended) if terminal else None,
            "data_interval_start": iso_z(run.logical_date),
            "data_interval_end": iso_z(run.interval_end),
            "pipeline_run_type": "manual" if run.manual else "scheduled",
            "pipeline_run_state": state,
            "is_externally_triggered": run.manual,
            "records_extracted": counts,
            "records_mapped": counts,
            "event_batches_generated": counts,
            "created_on": zoneless(run.created),
            "created_by": _AUTHOR,
            "last_modified_on": zoneless(modified),
            "last_modified_by": _AUTHOR,
        }

    def _pipeline_view(self, spec: PipelineSpec, now: pendulum.DateTime) -> dict[str, Any]:
        faulted = self._faulted(spec, now)
        return {
            "id": spec.id,
            "name": spec.name,
            "workspace_id": int(self.workspace_id),
            "is_active": spec.is_active,
            "is_draft": False,
            **self._health("is_faulted", faulted),
            "faulted_reason": FAULTED_REASON if faulted else None,
            "connection_id": "example-connection",
            "data_model_id": "example-data-model",
            "partner_feed_id": spec.partner_feed_id,
            "partner_feed_key": self.credential_value,
            "schedule_start_time": iso_z(self.history_start),
            "schedule_end_time": None,
            "schedule_interval": spec.schedule_interval,
            "environment": spec.environment,
            "created_on": "2022-10-19T17:08:10.013",
            "created_by": _AUTHOR,
            "last_modified_on": None,
            "last_modified_by": None,
        }

    def _connection(self, number: int) -> dict[str, Any]:
        """The document's two example connections (v2: `status`, `service_provider`, `config`)."""
        suffix = "" if number == 1 else f"-{number}"
        arn = "arn:aws:iam::123456:user/externalstages/abcdefg" if number == 1 else None
        settings = {
            "source_account_id": "gd1234",
            "region": "us-central1.gcp",
            "warehouse": "compute_wh",
            "database": "mp",
            "role": "mp_role",
            "user": "mp_user",
            "password": self.credential_value,
            "snowflake_aws_iam_user_arn": arn,
            "snowflake_aws_external_id": "GD1234=2_abcdefg=" if number == 1 else None,
        }
        audit = {
            "created_on": "2022-10-19T17:08:10.013" if number == 1 else "2022-12-05T17:10:53.987",
            "created_by": _AUTHOR,
            "last_modified_on": None,
            "last_modified_by": None,
        }
        identity = {
            "id": f"example-connection{suffix}",
            "name": f"Example Connection{suffix.replace('-', ' ')}",
            "workspace_id": 1234,
        }
        if self.v2:
            v2_fields = {"state": "active", "status": "healthy", "service_provider": "Snowflake"}
            return {**identity, **v2_fields, "config": settings, **audit}
        return {**identity, "is_faulted": False, "type": "snowflake", **settings, **audit}

    def _data_model(self, number: int) -> dict[str, Any]:
        """The document's three example data models."""
        suffix = "" if number == 1 else f"-{number}"
        created = {1: "2022-09-16T16:58:47.317", 2: "2022-10-19T17:08:10.013"}
        modified = {1: "2022-11-04T16:48:21.507", 3: "2022-11-07T23:39:12.903"}
        return {
            "id": f"example-data-model{suffix}",
            "name": f"Example Data Model{suffix.replace('-', ' ')}",
            "workspace_id": 5328,
            "type": "sql",
            "sql_query": 'SELECT email AS email, COUNT(id) AS "count_of_open_tickets" '
            "FROM mp.demo_service.tickets WHERE t.status = 'open'",
            "load_timestamp_field_type": "timestamp_ltz",
            "load_timestamp_field_name": "SCANNED_TIMESTAMP_MS"
            if number == 3
            else "LAST_UPDATED_DATE_TIME",
            "load_timestamp_field_time_zone": None,
            "load_timestamp_field_time_offset": 0,
            "created_on": created.get(number, "2022-11-07T23:31:16.78"),
            "created_by": _AUTHOR,
            "last_modified_on": modified.get(number),
            "last_modified_by": _AUTHOR if number in modified else None,
        }


def zoneless(moment: pendulum.DateTime) -> str:
    """As the API writes audit times: UTC without a zone, milliseconds with trailing zeros cut
    (`2022-10-19T17:14:09.43`, `2023-02-07T20:36:00`)."""
    text = moment.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return text.rstrip("0").rstrip(".") if text.endswith("0") else text


def _int_arg(request: Request, name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer.") from None


def _date_arg(request: Request, name: str) -> pendulum.DateTime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        parsed = pendulum.parse(value, tz="UTC")
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise ApiError(400, f"{name} is not a date.") from None
    if not isinstance(parsed, pendulum.DateTime):
        raise ApiError(400, f"{name} is not a date.")
    return parsed
