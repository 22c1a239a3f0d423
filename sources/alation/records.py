"""Rows of `alation_jobs` and `alation_job_errors` from one job-status answer.

The facts hide in text: `msg` ("Job finished in 2.0 seconds at 2017-10-05 19:36:48.374593+00:00"),
`result` (a JSON document encoded inside a string, or the query-log ingestion sentence) and the
job name (`MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-<uuid>`). Whatever does not
parse keeps its raw text, leaves its parsed columns null and is reported as a problem.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pendulum

from jobpulse.sources.alation.settings import STATUS_RUNNING, TERMINAL_STATUSES
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_timestamp

_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_MSG = re.compile(
    rf"\bin\s+(?P<seconds>{_NUMBER})\s*(?:seconds?|secs?|s)?\s+at\s+"
    r"(?P<at>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)",
    re.IGNORECASE,
)
_QUERY_LOG = re.compile(
    r"Bulk Query Ingestion \w+:\s*(?P<new>\d+)\s+new events? ingested,\s*"
    r"(?P<skipped>\d+)\s+previously[- ]ingested events? skipped",
    re.IGNORECASE,
)
# `<key>_YYYY-MM-DD-HH-MM-SS[-ffffff][-hh-mm]` then `-<uuid>` or the end: str(datetime) with
# every separator turned into `-` (so the sign of the offset is lost; Alation writes UTC).
_NAME = re.compile(
    r"^(?P<key>.+?)_(?P<date>\d{4}-\d{2}-\d{2})-(?P<h>\d{2})-(?P<m>\d{2})-(?P<s>\d{2})"
    r"(?:-(?P<us>\d{6}))?(?:-(?P<oh>\d{2})-(?P<om>\d{2}))?(?=$|[-_])"
)
_RESULT_FIELDS = ("updated_objects", "number_received", "error_objects")

JOB_COLUMNS: Any = {
    "job_ref": {"data_type": "text", "nullable": False},
    "job_id": {"data_type": "bigint"},
    "job_name": {"data_type": "text"},
    "job_type": {"data_type": "text"},
    "job_key": {"data_type": "text"},
    "status": {"data_type": "text"},
    "msg": {"data_type": "text"},
    "result": {"data_type": "text"},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp"},
    "ended_at": {"data_type": "timestamp"},
    "duration_seconds": {"data_type": "double"},
    "updated_objects": {"data_type": "bigint"},
    "number_received": {"data_type": "bigint"},
    "error_count": {"data_type": "bigint"},
    "new_events_ingested": {"data_type": "bigint"},
    "events_skipped": {"data_type": "bigint"},
}
ERROR_COLUMNS: Any = {
    "job_ref": {"data_type": "text", "nullable": False},
    "position": {"data_type": "bigint", "nullable": False},
    "error": {"data_type": "text"},
}


def job_ref(job_id: int | None, name: str | None) -> str:
    """The key of a job: `id:<n>` when known by integer id, else its name."""
    return f"id:{job_id}" if job_id is not None else str(name)


def is_terminal(status: object) -> bool:
    return isinstance(status, str) and status.strip().lower() in TERMINAL_STATUSES


@dataclass
class JobRows:
    """One answer's rows, and what in it was not in the documented form."""

    job: Record
    errors: list[Record]
    problems: list[str] = field(default_factory=list)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.job["status"])


def job_rows(payload: Record, job_id: int | None, name: str | None) -> JobRows:
    ref = job_ref(job_id, name)
    status, msg, result = payload.get("status"), payload.get("msg"), payload.get("result")
    problems: list[str] = []
    finished_at, duration = _parse_msg(msg, status, problems)
    facts, error_objects = _parse_result(result, problems)
    job_type, job_key, started_at = parse_name(name)
    if started_at is None and finished_at is not None and duration is not None:
        started_at = finished_at - pendulum.duration(seconds=duration)
    job: Record = {
        **_extras(payload),
        "job_ref": ref,
        "job_id": job_id,
        "job_name": name,
        "job_type": job_type,
        "job_key": job_key,
        "status": status,
        "msg": _raw_text(msg),
        "result": _raw_text(result),
        "started_at": started_at,
        "finished_at": finished_at,
        "ended_at": finished_at if is_terminal(status) else None,
        "duration_seconds": duration,
        **facts,
    }
    errors = [
        {"job_ref": ref, "position": position, "error": _raw_text(entry)}
        for position, entry in enumerate(error_objects)
    ]
    if not isinstance(status, str):
        problems.append(f"status is {status!r}, not a text")
    return JobRows(job, errors, problems)


def parse_name(name: str | None) -> tuple[str | None, str | None, pendulum.DateTime | None]:
    """`(job_type, job_key, started_at)` from a job name; a name with no timestamp is its own
    key. `MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-<uuid>` gives
    `("MetadataExtraction", "MetadataExtraction#1", 2017-10-05T19:36:45.431906Z)`."""
    if not name:
        return None, None, None
    match = _NAME.match(name)
    key = match["key"] if match else name
    return key.split("#", 1)[0], key, _name_timestamp(match) if match else None


def _name_timestamp(match: re.Match[str]) -> pendulum.DateTime | None:
    offset = f"+{match['oh']}:{match['om']}" if match["oh"] else "+00:00"
    text = f"{match['date']}T{match['h']}:{match['m']}:{match['s']}.{match['us'] or '0'}{offset}"
    try:
        return parse_timestamp(text)
    except ValueError:
        return None  # digits in the right places that are no date (month 13): no start time


def _parse_msg(
    msg: object, status: object, problems: list[str]
) -> tuple[pendulum.DateTime | None, float | None]:
    """`finished_at` and `duration_seconds` from "Job finished in 2.0 seconds at <timestamp>".
    A running job's message is not expected in that form; an empty message says nothing."""
    if msg is None or (isinstance(msg, str) and not msg.strip()):
        return None, None
    match = _MSG.search(msg) if isinstance(msg, str) else None
    if match is not None:
        try:
            return parse_timestamp(match["at"]), float(match["seconds"])
        except ValueError:
            pass
    if not (isinstance(status, str) and status.strip().lower() == STATUS_RUNNING):
        problems.append(f"msg is not 'Job finished in <n> seconds at <timestamp>': {msg!r}")
    return None, None


def _parse_result(result: object, problems: list[str]) -> tuple[Record, list[Any]]:
    """The counts in `result`, and its `error_objects`.

    Documented: a JSON object encoded in a string; for query-log ingestion, plain text. An
    object sent as is (not encoded) is read the same way.
    """
    facts: Record = {name: None for name in _RESULT_COUNT_COLUMNS}
    if result is None or (isinstance(result, str) and not result.strip()):
        return facts, []
    document: object = result
    if isinstance(result, str):
        if _read_query_log(result, facts):
            return facts, []
        try:
            document = json.loads(result)
        except ValueError:
            problems.append(f"result is neither JSON nor the query-ingestion text: {result!r}")
            return facts, []
    if isinstance(document, str) and _read_query_log(document, facts):
        return facts, []
    if isinstance(document, dict):
        if isinstance(document.get("result"), str) and _read_query_log(document["result"], facts):
            return facts, []
        if any(name in document for name in _RESULT_FIELDS):
            return facts, _read_counts(document, facts, problems)
    problems.append(f"result is not in a documented form: {_raw_text(result)!r}")
    return facts, []


_RESULT_COUNT_COLUMNS = (
    "updated_objects",
    "number_received",
    "error_count",
    "new_events_ingested",
    "events_skipped",
)


def _read_query_log(text: str, facts: Record) -> bool:
    match = _QUERY_LOG.search(text)
    if match is None:
        return False
    facts["new_events_ingested"] = int(match["new"])
    facts["events_skipped"] = int(match["skipped"])
    return True


def _read_counts(document: Record, facts: Record, problems: list[str]) -> list[Any]:
    for name in ("updated_objects", "number_received"):
        value = document.get(name)
        facts[name] = _count(value)
        if value is not None and facts[name] is None:
            problems.append(f"result {name} is not a count: {value!r}")
    errors = document.get("error_objects")
    if isinstance(errors, str):  # tolerated: the list encoded once more
        with contextlib.suppress(ValueError):
            errors = json.loads(errors)
    if errors is None:
        return []
    if not isinstance(errors, list):
        problems.append(f"result error_objects is not a list: {errors!r}")
        return []
    facts["error_count"] = len(errors)
    return errors


def _count(value: object) -> int | None:
    """A whole number sent as a number or as text; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def _raw_text(value: object) -> str | None:
    """As sent: text unchanged; anything else (an object sent unencoded) as its JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _extras(payload: Record) -> Record:
    """Fields beyond the documented three, kept as columns (nested values as JSON text)."""
    return {
        name: value
        if isinstance(value, str | int | float | bool) or value is None
        else _raw_text(value)
        for name, value in payload.items()
        if name not in ("status", "msg", "result") and name not in JOB_COLUMNS
    }
