"""Rows of `tailer_runs`: the API's fields as sent, the tracked identity, derived times.

Durations come as Python's `str(timedelta)`: `H:MM:SS.ffffff`, or `D day(s), H:MM:SS.ffffff`
for runs longer than a day; neither is ISO-8601, so they are parsed here.
"""

from __future__ import annotations

import re

import pendulum

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_duration_seconds, parse_timestamp
from jobpulse.sources.tailer.identity import Operation
from jobpulse.sources.tailer.settings import TERMINAL_STATUSES, VENDOR

_TIMEDELTA = re.compile(
    r"^\s*(?:(?P<days>[-+]?\d+)\s+days?,\s*)?"
    r"(?P<hours>\d+):(?P<minutes>\d{1,2}):(?P<seconds>\d{1,2}(?:\.\d+)?)\s*$"
)


def parse_duration(value: object) -> float | None:
    """Seconds in `H:MM:SS[.ffffff]` or `D day(s), H:MM:SS[.ffffff]` (also a plain number of
    seconds or an ISO-8601 duration); None when empty. Raises ValueError for anything else."""
    if isinstance(value, str):
        match = _TIMEDELTA.match(value)
        if match:
            days = int(match["days"] or 0)
            clock = int(match["hours"]) * 3600 + int(match["minutes"]) * 60
            return days * 86400 + clock + float(match["seconds"])
        if value.strip() and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
            return float(value)  # a number of seconds sent as a string
    return parse_duration_seconds(value)


def normalized_status(run: Record) -> str:
    return " ".join(str(run.get("status") or "").replace("_", " ").upper().split())


def is_terminal(run: Record) -> bool:
    """SUCCESS, FAILED, "Checked" and "No match" are final; anything else may still change."""
    return normalized_status(run) in TERMINAL_STATUSES


def run_key(run: Record, endpoint: str) -> tuple[str, str]:
    """`(job_id, run_id)`: the table's key; a run without them cannot be stored."""
    job_id, run_id = run.get("job_id"), run.get("run_id")
    if job_id in (None, "") or run_id in (None, ""):
        raise VendorPayloadError(VENDOR, endpoint, "a run has no job_id or run_id", str(run)[:300])
    return str(job_id), str(run_id)


def started_at(run: Record, endpoint: str) -> pendulum.DateTime | None:
    return _moment(run, "start_execution_date", endpoint)


def _moment(run: Record, field: str, endpoint: str) -> pendulum.DateTime | None:
    try:
        return parse_timestamp(run.get(field))
    except ValueError as exc:
        raise VendorPayloadError(VENDOR, endpoint, str(exc), str(run)[:300]) from None


def run_row(run: Record, operation: Operation, endpoint: str) -> Record:
    """A `tailer_runs` row: the run as sent, the tracked identity, started/ended/duration."""
    job_id, run_id = run_key(run, endpoint)
    started = started_at(run, endpoint)
    try:
        duration = parse_duration(run.get("duration"))
    except ValueError as exc:
        raise VendorPayloadError(VENDOR, endpoint, str(exc), str(run)[:300]) from None
    ended = None
    if is_terminal(run) and started is not None and duration is not None:
        ended = started + pendulum.duration(seconds=duration)
    elif is_terminal(run):
        ended = _moment(run, "last_update_date", endpoint)  # no duration: the last update ended it
    row: Record = {
        **run,
        "account": run.get("account") or operation.account,
        "environment": run.get("environment") or operation.environment,
        "job_id": job_id,
        "run_id": run_id,
        "tracked_configuration_type": operation.configuration_type,
        "tracked_configuration_id": operation.configuration_id,
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": duration,
        "is_terminal": is_terminal(run),
    }
    return row
