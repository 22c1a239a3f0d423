"""The event-specifications envelope (`data`, `includes`, `errors`) and the rows of three tables.

Rows keep the vendor's fields as sent; added are only the keys and stamps the tables need:
`event_spec_id` on history and issue rows, `organization_id`, `is_deleted`, `deleted_seen_at`,
`compatibility_checked_at`, `observed_at`. What the parser tolerates is listed under
"Assumptions" in this folder's README.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pendulum

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_timestamp
from jobpulse.sources.snowplow.settings import VENDOR

HISTORY_TYPE = "history"
# Issue-table key fields an error entry may lack: stored as "" so the key is never null.
_ISSUE_KEY_FIELDS = ("code", "source", "title")


@dataclass(frozen=True)
class Envelope:
    """One decoded answer: the specs in `data`, the History includes, the `errors` entries."""

    specs: list[Record] = field(default_factory=list)
    history: list[Record] = field(default_factory=list)
    errors: list[Record] = field(default_factory=list)


def parse_envelope(payload: Any, endpoint: str) -> Envelope:
    """An answer as documented; `data` may also be a single object, an empty body is empty."""
    if payload is None:
        return Envelope()
    if not isinstance(payload, dict):
        raise VendorPayloadError(
            VENDOR,
            endpoint,
            "expected a JSON object with data, includes, errors",
            _preview(payload),
        )
    data = payload.get("data")
    specs = _objects([data] if isinstance(data, dict) else data, endpoint, "data")
    includes = _objects(payload.get("includes"), endpoint, "includes")
    errors = _objects(payload.get("errors"), endpoint, "errors")
    return Envelope(specs, [item for item in includes if _is_history(item)], errors)


def _is_history(include: Record) -> bool:
    """History includes; other include types are ignored. An untyped include is history when it
    has the history entry's own fields."""
    kind = include.get("type")
    if kind is None:
        return "date" in include and "version" in include
    return str(kind).lower() == HISTORY_TYPE


def _objects(value: Any, endpoint: str, what: str) -> list[Record]:
    items = [] if value is None else value
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise VendorPayloadError(
            VENDOR, endpoint, f"`{what}` is not an array of objects", _preview(value)
        )
    return items


def spec_id_of(spec: Record, endpoint: str) -> str:
    value = spec.get("id")
    if value is None or value == "":
        raise VendorPayloadError(
            VENDOR, endpoint, "an event specification has no id", _preview(spec)
        )
    return str(value)


def history_of(entries: Iterable[Record], spec_id: str) -> list[Record]:
    """The entries of one spec: `eventSpecId = id`; entries without it belong to `spec_id`
    (a single-spec answer relates its history to the spec by position)."""
    return [e for e in entries if str(e.get("eventSpecId", spec_id)) == spec_id]


def change_date(entry: Record, endpoint: str) -> pendulum.DateTime:
    try:
        parsed = parse_timestamp(entry.get("date"))
    except ValueError as exc:
        raise VendorPayloadError(
            VENDOR, endpoint, f"history entry: {exc}", _preview(entry)
        ) from None
    if parsed is None:
        raise VendorPayloadError(VENDOR, endpoint, "a history entry has no date", _preview(entry))
    return parsed


def latest_change(entries: Iterable[Record], endpoint: str) -> pendulum.DateTime | None:
    dates = [change_date(entry, endpoint) for entry in entries]
    return max(dates) if dates else None


def spec_row(
    spec: Record, organization_id: str, compatibility_checked_at: pendulum.DateTime | None
) -> Record:
    """A live spec; `compatibility_checked_at` is the time of the latest load that read its
    compatibility findings (the `observed_at` of those findings, none found included)."""
    return {
        **spec,
        "organization_id": organization_id,
        "is_deleted": False,
        "deleted_seen_at": None,
        "compatibility_checked_at": compatibility_checked_at,
    }


def history_row(entry: Record, spec_id: str, endpoint: str) -> Record:
    """A history entry with its key typed: `version` an integer, `date` a UTC timestamp."""
    version = entry.get("version")
    try:
        version = int(version)  # type: ignore[arg-type]  # numbers as strings are accepted
    except (TypeError, ValueError):
        raise VendorPayloadError(
            VENDOR, endpoint, f"history entry version is not a whole number: {version!r}"
        ) from None
    return {
        **entry,
        "eventSpecId": spec_id,
        "version": version,
        "date": change_date(entry, endpoint),
    }


def issue_row(
    error: Record, spec_id: str, spec_version: Any, observed_at: pendulum.DateTime
) -> Record:
    """One `errors` entry of a spec as seen by the load at `observed_at`."""
    keys = {name: "" if error.get(name) is None else error[name] for name in _ISSUE_KEY_FIELDS}
    return {
        **error,
        **keys,
        "eventSpecId": spec_id,
        "event_spec_version": spec_version,
        "observed_at": observed_at,
    }


def deleted_row(stored: Record | None, spec_id: str, seen_at: pendulum.DateTime) -> Record:
    """The last stored row of a spec gone from the list, marked deleted; the mark alone when
    no stored row could be read."""
    row = {k: v for k, v in (stored or {}).items() if not k.startswith("_dlt_")}
    return {**row, "id": spec_id, "is_deleted": True, "deleted_seen_at": seen_at}


def _preview(value: Any) -> str:
    return str(value)[:500]
