"""Tailer data-operation runs: a complete history from an API that only answers the last N.

Resources:
- `tailer_runs` (merge on `job_id, run_id`): every run of every tracked operation, as
  `get_last_status` / `check_run_status` send it, with the tracked identity and derived
  `started_at`, `ended_at`, `duration_seconds`. Runs not yet terminal are checked again on each
  load until they are.
- `load_gaps` (merge on `source, gap_from`): days with more runs than one answer can hold.

Loads only read: they never launch a job, reset a workflow or change a configuration's status.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt
import pendulum
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.shared.gaps import Gap, load_gaps
from jobpulse.sources.shared.timeutil import utc_now
from jobpulse.sources.tailer.client import TailerClient
from jobpulse.sources.tailer.history import fetch_operation
from jobpulse.sources.tailer.identity import Operation, log_suffixes, parse_jobs
from jobpulse.sources.tailer.records import run_row
from jobpulse.sources.tailer.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_INITIAL_LOOKBACK_DAYS,
    DEFAULT_LIMIT,
    GET_LAST_STATUS,
    MAX_LIMIT,
    STATUS_PATH,
    VENDOR,
)

SOURCE_NAME = "tailer"

_COLUMNS: Any = {
    "started_at": {"data_type": "timestamp"},
    "ended_at": {"data_type": "timestamp"},
    "duration_seconds": {"data_type": "double"},
    "is_terminal": {"data_type": "bool"},
}


@dataclass(frozen=True)
class RunRows:
    """The `tailer_runs` rows of one operation, as one item between the resources."""

    rows: list[dict[str, Any]]


@dlt.source(name=SOURCE_NAME)
def tailer_source(
    jobs: list[dict[str, Any]] = dlt.config.value,
    jwt: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    initial_lookback_days: int = DEFAULT_INITIAL_LOOKBACK_DAYS,
    limit: int = DEFAULT_LIMIT,
) -> Sequence[DltResource]:
    """Tailer run history. Settings under `[sources.tailer]` or `SOURCES__TAILER__*`.

    Args:
        jobs: the operations to track, each `{account, environment, configuration_type,
            configuration_id}`, a table-to-table id written without its `_<ENVIRONMENT>`.
        jwt: the bearer JWT (`tailer auth get-token`).
        base_url: the Tailer API URL.
        initial_lookback_days: how many days back the first load pages.
        limit: runs asked for per get_last_status call, 1 to 1000.
    """
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise SourceConfigError(VENDOR, f"limit must be 1 to {MAX_LIMIT}, got {limit}")
    if int(initial_lookback_days) < 0:
        raise SourceConfigError(
            VENDOR, f"initial_lookback_days must be 0 or more, got {initial_lookback_days}"
        )
    operations = parse_jobs(jobs)
    log_suffixes(operations)
    client = TailerClient(base_url, jwt)
    updates = tailer_run_updates(client, operations, int(limit), int(initial_lookback_days))
    return [updates | tailer_runs(), updates | load_gaps(SOURCE_NAME)]


@dlt.resource(selected=False)
def tailer_run_updates(
    client: TailerClient, operations: list[Operation], limit: int, initial_lookback_days: int
) -> Iterator[RunRows | Gap]:
    """Per operation: the latest runs, paged back to the stored ones, and open runs checked."""
    resource_state = dlt.current.resource_state()
    # Only tracked operations are remembered: the state stays bounded by the jobs setting.
    previous = resource_state.get("operations", {})
    state = {op.key: previous.get(op.key, {}) for op in operations}
    resource_state["operations"] = state
    floor = utc_now().subtract(days=initial_lookback_days).date()
    metrics = dlt.current.resource_metrics()
    endpoint = client.endpoint(STATUS_PATH, GET_LAST_STATUS)
    for operation in operations:
        fetched = fetch_operation(
            client, operation, state[operation.key], limit=limit, lookback_floor=floor
        )
        for gap in fetched.gaps:
            start = pendulum.datetime(gap.day.year, gap.day.month, gap.day.day, tz="UTC")
            yield Gap(start, start.add(days=1), gap.reason)
        metrics["runs_listed"] = metrics.get("runs_listed", 0) + fetched.listed
        metrics["open_runs_checked"] = metrics.get("open_runs_checked", 0) + fetched.checked
        yield RunRows([run_row(run, operation, endpoint) for run in fetched.runs.values()])


@dlt.transformer(primary_key=("job_id", "run_id"), write_disposition="merge", columns=_COLUMNS)
def tailer_runs(item: RunRows | Gap) -> list[dict[str, Any]]:
    """The runs of one operation; gaps go to `load_gaps`."""
    return item.rows if isinstance(item, RunRows) else []
