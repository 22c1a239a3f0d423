"""The Snowplow sandbox's job history: a pure function of ``(jobs, seed, now)``.

Every job runs at fixed absolute times (epoch-aligned multiples of its interval, plus an offset),
and everything about one run (wait, skip, outcome, step durations, no-op steps, logs) comes from
a ``random.Random`` seeded with a stable string of ``(seed, job_id, scheduled start)``. A run is
WAITING, then RUNNING until now passes its end, then SUCCEEDED or FAILED (or SKIPPED at once),
and never changes again.

Views follow the shape public clients of the API show: runs carry ``runId, jobId, jobName,
environment, state, startTime, duration, failureReason`` and no end time; steps carry ``name,
state, dependencies, duration`` and no timestamps. ``end_times=True`` adds the end-time shape
(``endTime`` on runs, ``startTime``/``endTime`` on steps), which jobpulse tolerates too.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

SLOWDOWN_CYCLE = pendulum.duration(days=28)

_TYPICAL_LOG_LINE_BYTES = 110
_DB_ERRORS = (
    'relation "atomic.events_staged" does not exist',
    "permission denied for schema derived",
    "division by zero",
    "could not serialize access due to concurrent update",
    "could not extend file: No space left on device",
)


@dataclass(frozen=True)
class StepSpec:
    """One step of a job's DAG; it starts once all its ``dependencies`` have finished.

    With probability ``no_op_rate`` the step finds nothing to do: SUCCEEDED_NO_OP in seconds.
    """

    name: str
    dependencies: tuple[str, ...]
    base_seconds: float
    no_op_rate: float = 0.0


@dataclass(frozen=True)
class JobSpec:
    """One scheduled data-model job.

    Runs start at ``k * every + offset`` seconds after the Unix epoch, wait a few seconds
    (WAITING), then run. With probability ``skip_rate`` a run is SKIPPED instead. A run's
    durations grow by ``slowdown_per_day`` (a fraction, compounded) for every day since the start
    of the current epoch-aligned ``slowdown_cycle``. Compounding makes the slowdown over any week
    the same whatever "now" is; the reset once per cycle (someone "fixes" the job) keeps a demo
    held years after any fixed anchor from running jobs for days.
    """

    job_id: str
    job_name: str
    environment: str
    every: pendulum.Duration
    offset: pendulum.Duration
    steps: tuple[StepSpec, ...]
    failure_rate: float
    skip_rate: float = 0.0
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
        for rate in (self.failure_rate, self.skip_rate):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{self.job_id}: `failure_rate` and `skip_rate` are in [0, 1]")
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
        skip_rate=0.05,
        steps=(
            StepSpec(_BASE_STEP, (), 150),
            StepSpec("page views", (_BASE_STEP,), 210),
            StepSpec("sessions", (_BASE_STEP,), 170),
            StepSpec("users", ("page views", "sessions"), 95),
            StepSpec("manifest/cleanup", ("users",), 25, no_op_rate=0.5),
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
            StepSpec("app errors", (_BASE_STEP,), 75, no_op_rate=0.3),
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


@dataclass(frozen=True)
class StepPlan:
    spec: StepSpec
    start: pendulum.DateTime | None  # None: skipped (an upstream step failed, or the run did)
    end: pendulum.DateTime | None
    failed: bool
    no_op: bool


@dataclass(frozen=True)
class RunPlan:
    """Everything about one run, independent of "now"; states are derived from it per request."""

    run_id: str
    job: JobSpec
    start: pendulum.DateTime  # the scheduled start, its `startTime`
    began: pendulum.DateTime  # when it stopped WAITING
    end: pendulum.DateTime
    skipped: bool
    failed_step: StepPlan | None
    steps: tuple[StepPlan, ...]

    def error(self, seed: int) -> str | None:
        """The database error its failed step ends with (stderr, `failureReason`)."""
        if self.failed_step is None:
            return None
        model = model_name(self.failed_step.spec.name)
        rng = rng_for(seed, self.job.job_id, self.start, self.failed_step.spec.name, "error")
        return f"Database Error in model {model} (models/{model}.sql): {rng.choice(_DB_ERRORS)}"


# --- the plan: a pure function of (job, seed, scheduled start) --------------------------------


def run_id_for(job_id: str, start: pendulum.DateTime) -> str:
    key = f"{job_id}|{iso(start)}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def rng_for(seed: int, job_id: str, start: pendulum.DateTime, *extra: str) -> random.Random:
    """A generator seeded by a string: stable across processes, unlike ``hash()``."""
    return random.Random("|".join((str(seed), job_id, iso(start), *extra)))


def schedule(
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
    planned: Mapping[str, StepPlan],
    began: pendulum.DateTime,
    scale: float,
    failing_step: str | None,
    rng: random.Random,
) -> StepPlan:
    seconds = max(1, round(spec.base_seconds * scale * rng.uniform(0.9, 1.1)))
    no_op = rng.random() < spec.no_op_rate
    upstream = [planned[name] for name in spec.dependencies]
    ends = [step.end for step in upstream if step.end is not None and not step.failed]
    if len(ends) < len(upstream):
        return StepPlan(spec, None, None, failed=False, no_op=False)
    start = max(ends, default=began)
    failed = spec.name == failing_step
    if failed:
        seconds = max(1, round(seconds * rng.uniform(0.2, 0.9)))
    elif no_op:
        seconds = rng.randint(1, 3)
    return StepPlan(spec, start, start.add(seconds=seconds), failed, no_op and not failed)


@functools.lru_cache(maxsize=65_536)
def plan_run(job: JobSpec, seed: int, start: pendulum.DateTime) -> RunPlan:
    """Plan one run.

    Steps independent of a failed step still run to completion (a DAG runner skips only what
    depends on the failure), so the run ends when its last executed step ends: when the failed
    step is the last one running, that is when it fails.
    """
    rng = rng_for(seed, job.job_id, start)
    run_id = run_id_for(job.job_id, start)
    if rng.random() < job.skip_rate:
        steps = tuple(StepPlan(spec, None, None, False, False) for spec in job.steps)
        return RunPlan(run_id, job, start, start, start, True, None, steps)
    began = start.add(seconds=rng.randint(5, 40))
    scale = _slowdown_factor(job, start) * rng.uniform(1 - job.jitter, 1 + job.jitter)
    failing_step = _pick_failing_step(job, rng)
    planned: dict[str, StepPlan] = {}
    for spec in job.steps:
        planned[spec.name] = _plan_step(spec, planned, began, scale, failing_step, rng)
    steps = tuple(planned.values())
    return RunPlan(
        run_id=run_id,
        job=job,
        start=start,
        began=began,
        end=max(step.end for step in steps if step.end is not None),
        skipped=False,
        failed_step=next((step for step in steps if step.failed), None),
        steps=steps,
    )


# --- views of a plan as of "now" --------------------------------------------------------------


def iso(moment: pendulum.DateTime) -> str:
    return moment.in_tz("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_or_none(moment: pendulum.DateTime | None) -> str | None:
    return None if moment is None else iso(moment)


def iso_duration(seconds: float) -> str:
    """``PT1H2M3S``-style duration of whole seconds."""
    whole = round(seconds)
    hours, minutes, secs = whole // 3600, whole // 60 % 60, whole % 60
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return f"PT{parts}{secs}S" if secs or not parts else f"PT{parts}"


def _span(start: pendulum.DateTime, end: pendulum.DateTime) -> str:
    return iso_duration((end - start).total_seconds())


def run_state(plan: RunPlan, now: pendulum.DateTime) -> str:
    if plan.skipped:
        return "SKIPPED"
    if now < plan.began:
        return "WAITING"
    if now < plan.end:
        return "RUNNING"
    return "SUCCEEDED" if plan.failed_step is None else "FAILED"


def run_view(plan: RunPlan, now: pendulum.DateTime, seed: int, end_times: bool) -> dict[str, Any]:
    """The run as the listing and the run endpoint show it; in progress, `duration` is the time
    elapsed so far."""
    state = run_state(plan, now)
    finished = state in {"SUCCEEDED", "FAILED", "SKIPPED"}
    error = plan.error(seed) if state == "FAILED" else None
    view: dict[str, Any] = {
        "runId": plan.run_id,
        "jobId": plan.job.job_id,
        "jobName": plan.job.job_name,
        "environment": plan.job.environment,
        "state": state,
        "startTime": iso(plan.start),
        "duration": _span(plan.start, plan.end if finished else now),
        "failureReason": None
        if error is None or plan.failed_step is None
        else f"Step '{plan.failed_step.spec.name}' failed: {error}",
    }
    if end_times:
        view["endTime"] = iso(plan.end) if finished else None
    return view


def step_state(plan: RunPlan, step: StepPlan, now: pendulum.DateTime) -> str:
    if step.start is None or step.end is None:  # never runs: skipped once the run gives up
        failed_at = plan.failed_step.end if plan.failed_step is not None else None
        gave_up = plan.skipped or (failed_at is not None and failed_at <= now)
        return "SKIPPED" if gave_up else "WAITING"
    if now < step.start:
        return "WAITING"
    if now < step.end:
        return "RUNNING"
    if step.failed:
        return "FAILED"
    return "SUCCEEDED_NO_OP" if step.no_op else "SUCCEEDED"


def step_view(
    plan: RunPlan, step: StepPlan, now: pendulum.DateTime, end_times: bool
) -> dict[str, Any]:
    state = step_state(plan, step, now)
    started = step.start is not None and state != "WAITING" and state != "SKIPPED"
    finished = started and state != "RUNNING"
    duration = None
    if started and step.start is not None and step.end is not None:
        duration = _span(step.start, step.end if finished else now)
    view: dict[str, Any] = {
        "name": step.spec.name,
        "state": state,
        "dependencies": list(step.spec.dependencies),
        "duration": duration,
    }
    if end_times:
        view["startTime"] = _iso_or_none(step.start if started else None)
        view["endTime"] = _iso_or_none(step.end if finished else None)
    return view


# --- step logs ---------------------------------------------------------------------------------


def model_name(step_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", step_name.lower()).strip("_")


def _timeline(
    start: pendulum.DateTime, end: pendulum.DateTime, target_bytes: int
) -> Iterator[datetime.datetime]:
    """Timestamps (UTC) spread over ``[start, end]`` for a log of about ``target_bytes``.

    Plain datetimes: a log has hundreds of lines, and pendulum's arithmetic and formatting per
    line made rendering logs most of the sandbox's CPU, slower than the clients it serves."""
    total = (end - start).total_seconds()
    tick = total * _TYPICAL_LOG_LINE_BYTES / max(target_bytes, 1)
    first = datetime.datetime.fromtimestamp(start.timestamp(), tz=datetime.UTC)
    for i in itertools.count():
        yield first + datetime.timedelta(seconds=round(min(i * tick, total)))


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
    lines: Iterator[str], times: Iterator[datetime.datetime], until: pendulum.DateTime, limit: int
) -> list[str]:
    """Timestamped lines up to ``until``, stopping once ``limit`` bytes are reached."""
    rendered: list[str] = []
    size = 0
    for line, at in zip(lines, times, strict=False):
        if at > until or size >= limit:
            break
        rendered.append(f"{at:%Y-%m-%dT%H:%M:%SZ} {line}")
        size += len(rendered[-1]) + 1
    return rendered


def step_logs(
    plan: RunPlan, step: StepPlan, seed: int, now: pendulum.DateTime, log_bytes: int
) -> tuple[str, str]:
    """(stdout, stderr) of a step as of ``now``: a running step has written part of its stdout;
    only a failed step has a stderr, ending with its error."""
    if step.start is None or step.end is None or now < step.start:
        return "", ""
    model = model_name(step.spec.name)
    stdout_rng = rng_for(seed, plan.job.job_id, plan.start, step.spec.name, "stdout")
    stdout = _render(
        _stdout_lines(model, stdout_rng),
        _timeline(step.start, step.end, log_bytes),
        min(now, step.end),
        log_bytes,
    )
    if not step.failed or now < step.end:
        return "\n".join(stdout), ""
    stderr_rng = rng_for(seed, plan.job.job_id, plan.start, step.spec.name, "stderr")
    stderr_bytes = plan.job.failure_log_bytes or log_bytes
    stderr = _render(
        _warning_lines(model, stderr_rng),
        _timeline(step.start, step.end, stderr_bytes),
        step.end,
        stderr_bytes,
    )
    stderr.append(f"{iso(step.end)} {plan.error(seed)}")
    return "\n".join(stdout), "\n".join(stderr)
