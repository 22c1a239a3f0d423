"""Rows for the mParticle raw tables: the vendor's fields as sent, minus credentials, plus keys,
UTC timestamps, numbers and the v1 spellings of v2 fields.

Credentials (`password`, `partner_feed_key` and any field named like a credential, at any depth)
are dropped here, before a record leaves the source: no column is ever made for them.
"""

from __future__ import annotations

from typing import Any

import pendulum
from dlt.common import logger
from dlt.common.normalizers.naming.snake_case import NamingConvention

from jobpulse.sources.mparticle.settings import (
    COUNT_FIELDS,
    FAULTED_STATUS,
    HEALTHY_STATUS,
    SUCCESS_STATES,
    TERMINAL_STATES,
    TIMESTAMP_FIELDS,
    VENDOR,
)
from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.redaction import register_secret
from jobpulse.sources.shared.timeutil import parse_timestamp

_NAMING = NamingConvention()
# A field is a credential when a word of its snake_case name is one of these...
_CREDENTIAL_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "secret", "secrets", "token", "tokens", "credential",
        "credentials", "passphrase", "apikey", "private",
    }
)  # fmt: skip
# ...or when it ends in `_key` after one of these (`partner_feed_key`, `api_key`), which
# keeps `primary_key`, `sort_key` and other keys of the data itself.
_SECRET_KEY_OWNERS = frozenset(
    {
        "feed", "api", "access", "secret", "private", "account", "encryption", "ssh", "auth",
        "signing", "client", "master", "partner", "service", "storage", "sas", "shared",
    }
)  # fmt: skip
_PREVIEW_CHARS = 300
# v2 nests a connection's settings in `config`, some under new names; v1 has them at the top.
_V2_CONFIG_NAMES = {
    "account_identifier": "source_account_id",
    "aws_iam_user_arn": "snowflake_aws_iam_user_arn",
    "aws_external_id": "snowflake_aws_external_id",
}


def is_credential(name: str) -> bool:
    words = _NAMING.normalize_identifier(name).split("_")
    if any(word in _CREDENTIAL_WORDS for word in words):
        return True
    return len(words) > 1 and words[-1] == "key" and words[-2] in _SECRET_KEY_OWNERS


def without_credentials(value: Any) -> Any:
    """`value` with every credential-named field dropped, in nested objects and arrays too.
    A dropped value that is not masked is registered as a secret, so no log line shows it."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if is_credential(str(key)):
                if isinstance(item, str) and item.strip("*"):
                    register_secret(item)
                continue
            kept[key] = without_credentials(item)
        return kept
    if isinstance(value, list):
        return [without_credentials(item) for item in value]
    return value


def faulted_from_status(status: Any) -> bool | None:
    """v2's `status` ("faulted" / "healthy") as v1's `is_faulted`; None for anything else."""
    text = str(status).strip().lower() if status is not None else ""
    return {FAULTED_STATUS: True, HEALTHY_STATUS: False}.get(text)


def _active_from_state(state: Any) -> bool | None:
    text = str(state).strip().lower() if state is not None else ""
    return {"active": True, "paused": False, "inactive": False}.get(text)


def with_v1_spellings(record: Record) -> Record:
    """A v2 record with the v1 columns filled in: `is_faulted` from `status`, `type` from
    `service_provider`, `is_active` from `state`, `is_connection_faulted` from
    `connection_status`, and a connection's settings from its `config` object (`database`,
    `account_identifier` as `source_account_id`, ...). Fields already sent in the v1 spelling
    win; the v2 fields stay."""
    row = dict(record)
    derived: dict[str, Any] = {
        "is_faulted": faulted_from_status(row.get("status")),
        "is_connection_faulted": faulted_from_status(row.get("connection_status")),
        "is_active": _active_from_state(row.get("state")),
        "is_connection_active": _active_from_state(row.get("connection_state")),
        "type": row.get("service_provider"),
    }
    config = row.get("config")
    if isinstance(config, dict):
        for key, value in config.items():
            if not isinstance(value, dict | list):
                derived.setdefault(_V2_CONFIG_NAMES.get(str(key), str(key)), value)
    for name, value in derived.items():
        if row.get(name) is None and value is not None:
            row[name] = value
    return row


def resource_row(record: Record, endpoint: str) -> Record:
    """A connection, data model or pipeline: no credentials, v1 spellings, UTC timestamps."""
    return _with_timestamps(with_v1_spellings(without_credentials(record)), endpoint)


def pipeline_row(
    record: Record, endpoint: str, deleted_seen_at: pendulum.DateTime | None = None
) -> Record:
    row = resource_row(record, endpoint)
    row["is_deleted"] = deleted_seen_at is not None
    row["deleted_seen_at"] = deleted_seen_at
    return row


def status_row(
    pipeline: Record, status: Record, observed_at: pendulum.DateTime, endpoint: str
) -> Record:
    """One `mparticle_pipeline_status` snapshot: the status endpoint's health flags, falling back
    to the pipeline's own (`faulted_reason` is documented on the pipeline only)."""
    listed = with_v1_spellings(pipeline)
    current = with_v1_spellings(without_credentials(status))
    row: Record = {"pipeline_id": pipeline["id"], "observed_at": observed_at}
    for flag in ("is_active", "is_faulted", "is_connection_active", "is_connection_faulted"):
        value = current.get(flag)
        row[flag] = _as_bool(listed.get(flag) if value is None else value, flag, endpoint)
    row["faulted_reason"] = current.get("faulted_reason") or listed.get("faulted_reason")
    for v2_field in ("status", "state", "connection_status"):
        if current.get(v2_field) is not None:
            row[v2_field] = current[v2_field]
    latest = current.get("latest_pipeline_run")
    if isinstance(latest, dict):
        row["latest_pipeline_run_id"] = run_id_of(latest, endpoint)
        row["latest_pipeline_run_state"] = run_state(latest) or None
    return row


def run_state(run: Record) -> str:
    """A run's `pipeline_run_state`, lower-cased ("" when absent)."""
    value = run.get("pipeline_run_state") or run.get("state")
    return str(value).strip().lower() if value is not None else ""


def is_terminal(run: Record) -> bool:
    return run_state(run) in TERMINAL_STATES


def is_success(run: Record) -> bool:
    return run_state(run) in SUCCESS_STATES


def run_id_of(run: Record, endpoint: str) -> int:
    """`pipeline_run_id`, documented as an integer; digits sent as a string are accepted."""
    value = run.get("pipeline_run_id")
    if isinstance(value, bool) or value is None:
        raise _payload_error(endpoint, "a run has no pipeline_run_id", run)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise _payload_error(endpoint, f"pipeline_run_id {value!r} is not an integer", run)
    return int(text)


def run_row(run: Record, pipeline_id: str, endpoint: str) -> Record:
    """A `mparticle_pipeline_runs` row. The run's `id` is its pipeline's id: stored as
    `pipeline_id`. Counts become numbers; `ended_at` stays null until the run is terminal."""
    row = without_credentials(run)
    row["pipeline_run_id"] = run_id_of(run, endpoint)
    listed_pipeline = row.pop("id", None)
    row["pipeline_id"] = row.get("pipeline_id") or listed_pipeline or pipeline_id
    for field in COUNT_FIELDS:
        if field in row:
            row[field] = _as_number(row[field], field, endpoint, run)
    row = _with_timestamps(row, endpoint, strict=True)
    started = row.get("start_date")
    ended = row.get("end_date") if is_terminal(run) else None
    row["started_at"] = started
    row["ended_at"] = ended
    row["duration_seconds"] = (
        (ended - started).total_seconds() if started is not None and ended is not None else None
    )
    return row


def _with_timestamps(row: Record, endpoint: str, *, strict: bool = False) -> Record:
    """Timestamp fields as UTC datetimes; a value without a zone is UTC, whatever the machine's
    zone. Outside runs (`strict`), a value that is no timestamp is kept as sent, with a warning."""
    for field in TIMESTAMP_FIELDS.intersection(row):
        try:
            row[field] = parse_timestamp(row[field])
        except ValueError as exc:
            if strict:
                raise _payload_error(endpoint, f"{field}: {exc}", row) from None
            logger.warning(f"{VENDOR} API {endpoint}: {field}: {exc}; kept as sent")
    return row


def _as_number(value: Any, field: str, endpoint: str, run: Record) -> int | float | None:
    """Counts are documented as strings and shown as numbers: both give a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: int | float = value
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        if not text:
            return None
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _payload_error(endpoint, f"{field} {value!r} is not a number", run) from None
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _as_bool(value: Any, field: str, endpoint: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    logger.warning(f"{VENDOR} API {endpoint}: {field} {value!r} is not a boolean; stored as null")
    return None


def _payload_error(endpoint: str, problem: str, record: Record) -> VendorPayloadError:
    preview = str(without_credentials(record))[:_PREVIEW_CHARS]
    return VendorPayloadError(VENDOR, endpoint, problem, preview)
