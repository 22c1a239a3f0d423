"""Snowplow BDP data-model job runs, their steps and the logs of their steps.

Resources:
- `snowplow_job_runs` (merge on `run_id`): every run listed in the API's 7-day window; runs
  in progress are fetched again on each load until they are terminal.
- `snowplow_job_steps` (merge on `run_id, step_name`): steps of new, changed and running runs.
- `snowplow_step_logs` (merge on `run_id, step_name`): stdout/stderr of failed steps (or of all
  finished steps, or none: `step_logs`), each stream cut to its last `log_max_bytes` bytes.
- `load_gaps` (merge on `source, gap_from`): spans of history the API no longer holds.

Every row carries `organization_id`, so several organisations can share one dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
import pendulum
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.shared.gaps import Gap, load_gaps
from jobpulse.sources.snowplow.client import SnowplowClient, none_if_missing
from jobpulse.sources.snowplow.listing import run_updates
from jobpulse.sources.snowplow.records import is_failed, is_terminal, log_row, run_row, step_row
from jobpulse.sources.snowplow.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_LOG_MAX_BYTES,
    DEFAULT_OVERLAP_MINUTES,
    DEFAULT_WINDOW_HOURS,
    RUNS_CAP,
    STEP_LOG_MODES,
    STEPS_PATH,
    VENDOR,
    StepLogs,
)
from jobpulse.sources.snowplow.tracking import RunTracker, RunUpdate

SOURCE_NAME = "snowplow"
PAGE_SIZE = 100  # updates per item passed between resources
# Runs whose steps one task of dlt's extract pool fetches, one after another. Each task costs
# dlt's main thread a future to submit, poll and resolve under the GIL the 16 workers share: a
# task per 4 runs kept 13.2-13.7 requests in flight at 50 ms instead of 12.2-12.8 (bench/README.md).
# Larger tasks lose more at the end of a load (the last ones run their requests in a row) and
# leave fewer tasks than workers per page.
RUNS_PER_TASK = 4

_TIMING_COLUMNS: Any = {
    "started_at": {"data_type": "timestamp"},
    "ended_at": {"data_type": "timestamp"},
    "duration_seconds": {"data_type": "double"},
}


@dlt.source(name=SOURCE_NAME)
def snowplow_source(
    organization_id: str = dlt.config.value,
    api_key: TSecretStrValue = dlt.secrets.value,
    api_key_id: TSecretStrValue | None = None,
    base_url: str = DEFAULT_BASE_URL,
    window_hours: int = DEFAULT_WINDOW_HOURS,
    overlap_minutes: int = DEFAULT_OVERLAP_MINUTES,
    step_logs: StepLogs = "failed",
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES,
    runs_cap: int = RUNS_CAP,
) -> Sequence[DltResource]:
    """Snowplow BDP job history. Settings under `[sources.snowplow]` or `SOURCES__SNOWPLOW__*`.

    Args:
        organization_id: the organisation UUID (after `.com/` in the console URL).
        api_key: the API key; with `api_key_id` too, the v3 token exchange is used, else v2.
        api_key_id: the API key ID (v3).
        base_url: the console URL.
        window_hours: length of each listing window, 1 to 96 hours.
        overlap_minutes: how far before the last listed instant the next load lists again.
        step_logs: whose stdout/stderr to load: "failed" steps, "all" steps, or "none".
        log_max_bytes: each stream keeps its last this-many bytes; longer ones are flagged.
        runs_cap: the API's documented trimming threshold; a window reaching it is halved.
    """
    if step_logs not in STEP_LOG_MODES:
        raise SourceConfigError(
            VENDOR, f"step_logs must be one of {STEP_LOG_MODES}, got {step_logs!r}"
        )
    if not 1 <= window_hours <= 96:
        raise SourceConfigError(
            VENDOR, f"window_hours must be 1 to 96 (the API's limit), got {window_hours}"
        )
    if log_max_bytes < 1 or overlap_minutes < 0 or runs_cap < 1:
        raise SourceConfigError(
            VENDOR, "log_max_bytes and runs_cap must be positive, overlap_minutes >= 0"
        )
    client = SnowplowClient(base_url, organization_id, api_key, api_key_id)
    updates = snowplow_run_updates(
        client,
        pendulum.duration(hours=window_hours),
        pendulum.duration(minutes=overlap_minutes),
        runs_cap,
    )
    steps = updates | snowplow_job_steps(client)
    resources = [updates | snowplow_job_runs(client), steps, updates | load_gaps(SOURCE_NAME)]
    if step_logs != "none":
        resources.append(steps | snowplow_step_logs(client, step_logs, log_max_bytes))
    return resources


@dlt.resource(selected=False)
def snowplow_run_updates(
    client: SnowplowClient,
    window_length: pendulum.Duration,
    overlap: pendulum.Duration,
    runs_cap: int,
) -> Iterator[list[RunUpdate | Gap]]:
    """Lists the windows since the last load, then re-fetches runs that were in progress.

    Yields pages of up to PAGE_SIZE updates, so that the transformers below run once per page
    rather than once per run.
    """
    tracker = RunTracker(dlt.current.resource_state())
    page: list[RunUpdate | Gap] = []
    for update in run_updates(
        client, tracker, window_length=window_length, overlap=overlap, runs_cap=runs_cap
    ):
        page.append(update)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


@dlt.transformer(primary_key="run_id", write_disposition="merge", columns=_TIMING_COLUMNS)
def snowplow_job_runs(updates: list[RunUpdate | Gap], client: SnowplowClient) -> Any:
    """Runs as listed; gaps in the history go to their own table, `load_gaps`."""
    metrics = dlt.current.resource_metrics()
    rows = []
    for update in updates:
        if isinstance(update, RunUpdate):
            metrics[f"{update.change}_runs"] = metrics.get(f"{update.change}_runs", 0) + 1
            rows.append(run_row(update.run, update.endpoint, client.organization_id))
    return rows


@dlt.transformer(
    primary_key=("run_id", "step_name"),
    write_disposition="merge",
    columns={**_TIMING_COLUMNS, "dependencies": {"data_type": "json"}},
)
def snowplow_job_steps(updates: list[RunUpdate | Gap], client: SnowplowClient) -> Iterator[Any]:
    """Steps of new, changed and running runs: one request per run, in parallel.

    The requests are deferred to dlt's extract pool RUNS_PER_TASK runs a task; runs that need no
    request cost no task.
    """
    needing = [u for u in updates if isinstance(u, RunUpdate) and u.needs_steps]
    for start in range(0, len(needing), RUNS_PER_TASK):
        yield _steps_of_runs(client, needing[start : start + RUNS_PER_TASK])


@dlt.defer
def _steps_of_runs(client: SnowplowClient, runs: Sequence[RunUpdate]) -> list[dict[str, Any]]:
    return [row for update in runs for row in _steps_of(client, update)]


def _steps_of(client: SnowplowClient, update: RunUpdate) -> list[dict[str, Any]]:
    steps = update.steps
    if steps is None:
        steps = none_if_missing(client.get_steps, update.run_id) or []
    endpoint = client.endpoint(STEPS_PATH, run_id=update.run_id)
    return [step_row(update.run_id, step, endpoint, client.organization_id) for step in steps]


@dlt.transformer(primary_key=("run_id", "step_name"), write_disposition="merge")
def snowplow_step_logs(
    steps: list[dict[str, Any]], client: SnowplowClient, mode: StepLogs, max_bytes: int
) -> Iterator[Any]:
    """stdout/stderr of the failed (or all finished) steps: one request per step, in parallel.

    Not `parallelized=True`, which would cost a future per run, and most runs have no failed
    step: only the steps that need a request are deferred to dlt's extract pool.
    """
    for step in steps:
        if is_failed(step) or (mode == "all" and is_terminal(step)):
            yield _step_log(client, step["run_id"], step["step_name"], max_bytes)


@dlt.defer
def _step_log(
    client: SnowplowClient, run_id: str, step_name: str, max_bytes: int
) -> list[dict[str, Any]]:
    detail = none_if_missing(client.get_step, run_id, step_name)
    if detail is None:
        return []
    return [
        log_row(run_id, step_name, detail, max_bytes) | {"organization_id": client.organization_id}
    ]
