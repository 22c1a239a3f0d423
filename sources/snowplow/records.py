"""Rows for the raw tables: the vendor's fields as sent, plus derived keys, times and durations.

Renaming into one vocabulary across vendors is the SQL models' job; here only columns that can
be derived without interpretation are added: `started_at`, `ended_at` (UTC), `duration_seconds`,
and the key columns `run_id` / `step_name` where the vendor's object does not carry them.
"""

from __future__ import annotations

import functools
from typing import Any

import pendulum
from dlt.common.normalizers.naming.snake_case import NamingConvention

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_duration_seconds, parse_timestamp, plus_seconds
from jobpulse.sources.snowplow.settings import FAILED_STATES, TERMINAL_STATES, VENDOR

_NAMING = NamingConvention()

# Field names as documented by public clients of this API first, then tolerated alternatives.
_RUN_ID_KEYS = ("runId", "id")
_START_KEYS = ("startTime", "startedAt", "start_time")
_END_KEYS = ("endTime", "endedAt", "finishedAt", "end_time")
_STEP_NAME_KEYS = ("name", "stepName", "step_name")
_STATE_KEYS = ("state", "status")
_LOG_STREAMS = ("stdout", "stderr")


def state_of(item: Record) -> str:
    """The upper-cased state of a run or step ("" when absent)."""
    value = _first(item, _STATE_KEYS)
    return str(value).upper() if value is not None else ""


def is_terminal(item: Record) -> bool:
    """Whether a run or step can no longer change: a terminal state, or an end time."""
    return state_of(item) in TERMINAL_STATES or _first(item, _END_KEYS) is not None


def is_failed(step: Record) -> bool:
    return state_of(step) in FAILED_STATES


def run_id_of(run: Record, endpoint: str) -> str:
    return _required(run, _RUN_ID_KEYS, endpoint, "a run has no runId")


def step_name_of(step: Record, endpoint: str) -> str:
    return _required(step, _STEP_NAME_KEYS, endpoint, "a step has no name")


def _required(item: Record, keys: tuple[str, ...], endpoint: str, problem: str) -> str:
    value = _first(item, keys)
    if value is None:
        raise VendorPayloadError(VENDOR, endpoint, problem, str(item)[:300])
    return str(value)


def run_row(run: Record, endpoint: str, organization_id: str) -> Record:
    """A `snowplow_job_runs` row: the run without its embedded steps, plus derived columns."""
    row = {key: value for key, value in run.items() if key != "steps"}
    row = _without_keys_named(row, ("organization_id",))
    run_id = run_id_of(run, endpoint)
    if "runId" not in row:  # dlt names `runId` run_id itself
        row["run_id"] = run_id
    row["organization_id"] = organization_id
    row.update(_timing(run, endpoint))
    return row


def step_row(run_id: str, step: Record, endpoint: str, organization_id: str) -> Record:
    """A `snowplow_job_steps` row keyed by `run_id, step_name`."""
    row = {key: value for key, value in step.items() if key not in _LOG_STREAMS}
    row = _without_keys_named(row, ("run_id", "step_name", "organization_id"))
    row["run_id"] = run_id
    row["step_name"] = step_name_of(step, endpoint)
    row["organization_id"] = organization_id
    row.update(_timing(step, endpoint))
    return row


def log_row(run_id: str, step_name: str, detail: Record, max_bytes: int) -> Record:
    """A `snowplow_step_logs` row: each stream cut to its last `max_bytes` bytes, and flagged."""
    row: Record = {"run_id": run_id, "step_name": step_name, "state": detail.get("state")}
    for stream in _LOG_STREAMS:
        text = detail.get(stream)
        text = "" if text is None else str(text)
        tail, truncated = keep_tail(text, max_bytes)
        row[stream] = tail
        row[f"{stream}_truncated"] = truncated
        row[f"{stream}_bytes"] = len(text.encode("utf-8", errors="replace"))
    return row


def keep_tail(text: str, max_bytes: int) -> tuple[str, bool]:
    """The last `max_bytes` bytes of `text` (UTF-8), never splitting a character."""
    # A log cut inside a character can carry a lone surrogate, which no database accepts.
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return encoded.decode("utf-8"), False
    return encoded[len(encoded) - max_bytes :].decode("utf-8", errors="ignore"), True


def started_at(item: Record, endpoint: str) -> pendulum.DateTime | None:
    return _moment(item, _START_KEYS, endpoint)


def _timing(item: Record, endpoint: str) -> Record:
    """Start, end and duration. The API sends a start and an ISO-8601 `duration` and no end time:
    a finished item ends at start + duration. An end time, where one is sent, is taken as is.
    An item in progress has no end, and its duration is only the time elapsed so far."""
    started = _moment(item, _START_KEYS, endpoint)
    ended = _moment(item, _END_KEYS, endpoint)
    try:
        duration = parse_duration_seconds(item.get("duration"))
    except ValueError as exc:
        raise VendorPayloadError(VENDOR, endpoint, str(exc), str(item)[:300]) from None
    finished = state_of(item) in TERMINAL_STATES or ended is not None
    if duration is None and started is not None and ended is not None:
        duration = (ended - started).total_seconds()
    if ended is None and finished and started is not None and duration is not None:
        ended = plus_seconds(started, duration)
    return {"started_at": started, "ended_at": ended, "duration_seconds": duration}


def _moment(item: Record, keys: tuple[str, ...], endpoint: str) -> pendulum.DateTime | None:
    try:
        return parse_timestamp(_first(item, keys))
    except ValueError as exc:
        raise VendorPayloadError(VENDOR, endpoint, str(exc), str(item)[:300]) from None


def _first(item: Record, keys: tuple[str, ...]) -> Any:
    """The first of `keys` with a value; None and "" count as absent."""
    for key in keys:  # a loop, not a generator: this runs several times for every run and step
        value = item.get(key)
        if value is not None and value != "":
            return value
    return None


def _without_keys_named(row: Record, names: tuple[str, ...]) -> Record:
    """Drop vendor keys that dlt would normalise onto a key column jobpulse sets itself."""
    return {key: value for key, value in row.items() if _normalized(key) not in names}


@functools.lru_cache(maxsize=1024)
def _normalized(key: str) -> str:
    """dlt's column name for a vendor key: the same few keys come back on every row."""
    return _NAMING.normalize_identifier(key)
