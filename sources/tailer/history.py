"""Which runs a load fetches for one tracked operation, and what it remembers for the next.

Tailer has no "list every run" call: `get_last_status` answers the latest `limit` runs, of all
days or of one `execution_date`. So a load asks for the latest runs; while the oldest run answered
is still newer than the newest run already stored, it pages back day by day (each
day asked with the largest `limit`) until it reaches the stored runs (first load:
`initial_lookback_days` back). Runs stored while not terminal are then checked again with
`check_run_status`, with their own `job_id`.

State per operation (dlt resource state, committed with the data): the start of the newest run
stored, and the runs not yet terminal. Nothing else, never a token.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pendulum
from dlt.common import logger

from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_timestamp
from jobpulse.sources.tailer.client import TailerClient
from jobpulse.sources.tailer.identity import Operation
from jobpulse.sources.tailer.records import is_terminal, run_key, started_at
from jobpulse.sources.tailer.settings import (
    GET_LAST_STATUS,
    MAX_LIMIT,
    STATUS_PATH,
    VENDOR,
)

RunKey = tuple[str, str]


@dataclass(frozen=True)
class DayGap:
    """A UTC day whose runs did not all fit in one answer: some may be missing."""

    day: pendulum.Date
    reason: str


@dataclass
class OperationRuns:
    """What one load fetched for one operation."""

    runs: dict[RunKey, Record] = field(default_factory=dict)
    gaps: list[DayGap] = field(default_factory=list)
    listed: int = 0
    checked: int = 0


def fetch_operation(
    client: TailerClient,
    operation: Operation,
    state: MutableMapping[str, Any],
    *,
    limit: int,
    lookback_floor: pendulum.Date,
) -> OperationRuns:
    """The operation's new and changed runs; `state` is updated for the next load."""
    fetched = OperationRuns()
    endpoint = client.endpoint(STATUS_PATH, GET_LAST_STATUS)
    cursor = parse_timestamp(state.get("newest_start"))

    latest = client.get_last_status(operation, limit=limit)
    _take(fetched, latest, endpoint)
    if not latest:
        logger.warning(
            f"{VENDOR}: get_last_status returned no runs for {operation.describe()}: the API "
            "does not know this operation or it never ran; check SOURCES__TAILER__JOBS"
        )
    # Paged back whether or not the answer looks full: an API that answers fewer runs than
    # `limit` asks for (a cap of its own) must not hide a burst either.
    starts = [s for s in (started_at(run, endpoint) for run in latest) if s is not None]
    if starts:
        oldest = min(starts)
        stop = cursor.date() if cursor is not None else lookback_floor
        if (cursor is None and oldest.date() >= stop) or (cursor is not None and oldest > cursor):
            _page_back(client, operation, fetched, oldest.date(), stop, cursor)

    _check_open_runs(client, operation, fetched, state.get("open") or [])
    _remember(state, fetched, cursor, endpoint)
    return fetched


def _page_back(
    client: TailerClient,
    operation: Operation,
    fetched: OperationRuns,
    day: pendulum.Date,
    stop: pendulum.Date,
    cursor: pendulum.DateTime | None,
) -> None:
    """Ask each UTC day from `day` back to `stop`, and one day more if the stored runs were not
    met on `stop` (the API's day may not be the UTC day).

    Days are asked with the largest `limit`, whatever the configured one: a day cannot be paged
    further, so a burst of more than `limit` runs in one day is still captured whole.
    """
    limit = MAX_LIMIT
    endpoint = client.endpoint(STATUS_PATH, GET_LAST_STATUS)
    while True:
        batch = client.get_last_status(operation, limit=limit, execution_date=day.isoformat())
        _take(fetched, batch, endpoint)
        if len(batch) >= limit:
            fetched.gaps.append(
                DayGap(
                    day,
                    f"more than {limit} runs of {operation.describe()} started on {day}: the API "
                    f"answers at most {limit} runs for one execution_date; some may be missing",
                )
            )
        reached = cursor is not None and any(
            start is not None and start <= cursor
            for start in (started_at(run, endpoint) for run in batch)
        )
        if reached or day < stop or (day == stop and cursor is None):
            return
        day = day.subtract(days=1)


def _check_open_runs(
    client: TailerClient, operation: Operation, fetched: OperationRuns, open_runs: Iterable[Any]
) -> None:
    """Check every run stored while not terminal; its answer wins over the listing's."""
    for entry in open_runs:
        job_id, run_id = str(entry["job_id"]), str(entry["run_id"])
        results = client.check_run_status(operation, job_id, run_id)
        fetched.checked += 1
        found = [run for run in results if str(run.get("run_id")) == run_id] or results[:1]
        if not found:
            logger.warning(
                f"{VENDOR}: check_run_status returned nothing for run {run_id} of "
                f"{operation.describe()}; it stays as last stored and is no longer checked"
            )
            continue
        listed = fetched.runs.get((job_id, run_id), {})
        update = {**listed, **found[0]}
        # The listing's configuration_type (say gbq-to-gbq) stays: check_run_status echoes the
        # type of the request (table-to-table), which would flip the stored value back and forth.
        if entry.get("configuration_type"):
            update["configuration_type"] = entry["configuration_type"]
        # The key stays the stored one, so a differently spelled echo can never duplicate a run.
        update["job_id"], update["run_id"] = job_id, run_id
        fetched.runs[(job_id, run_id)] = update


def _take(fetched: OperationRuns, batch: list[Record], endpoint: str) -> None:
    for run in batch:
        fetched.runs[run_key(run, endpoint)] = run
    fetched.listed += len(batch)


def _remember(
    state: MutableMapping[str, Any],
    fetched: OperationRuns,
    cursor: pendulum.DateTime | None,
    endpoint: str,
) -> None:
    starts = [started_at(run, endpoint) for run in fetched.runs.values()]
    newest = max((s for s in starts if s is not None), default=None)
    if cursor is not None and (newest is None or cursor > newest):
        newest = cursor
    state["newest_start"] = _iso(newest)
    state["open"] = [
        {
            "job_id": job_id,
            "run_id": run_id,
            "configuration_type": run.get("configuration_type"),
        }
        for (job_id, run_id), run in fetched.runs.items()
        if not is_terminal(run)
    ]


def _iso(moment: pendulum.DateTime | None) -> str | None:
    """Microseconds kept: starts differ by less than a second."""
    return None if moment is None else moment.in_timezone("UTC").isoformat()
