"""Event-specification envelope parsing and the rows of the three tables."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.snowplow.event_spec_records import (
    deleted_row,
    history_of,
    history_row,
    issue_row,
    latest_change,
    parse_envelope,
    spec_row,
)
from tests.snowplow.event_spec_fixtures import documented, documented_spec_with_findings

ENDPOINT = "GET /api/msc/v1/organizations/o/event-specs/v1"
SPEC_ID = "5a203ef8-939b-4fd1-914e-f12a3dd1a869"
OBSERVED = pendulum.datetime(2026, 3, 2, 12, 0, 0)


def test_documented_answer_gives_spec_history_and_no_errors() -> None:
    envelope = parse_envelope(documented()["create_response"], ENDPOINT)
    (spec,) = envelope.specs
    assert (spec["id"], spec["status"], spec["version"]) == (SPEC_ID, "draft", 0)
    (entry,) = history_of(envelope.history, SPEC_ID)
    assert entry["message"] == "initial draft"
    assert envelope.errors == []


def test_documented_history_entry_row_has_typed_key_and_keeps_every_field() -> None:
    (entry,) = documented()["create_response"]["includes"]
    row = history_row(entry, SPEC_ID, ENDPOINT)
    assert row["date"] == pendulum.datetime(2023, 4, 26, 14, 41, 48, 708191)
    assert (row["eventSpecId"], row["version"], row["status"]) == (SPEC_ID, 0, "draft")
    assert (row["author"], row["type"]) == ("39b81015-1bd5-4b37-96c7-3296cabaa36f", "History")


def test_documented_finding_becomes_an_issue_row_stamped_with_the_load_time() -> None:
    answer = parse_envelope(documented_spec_with_findings(), ENDPOINT)
    (error,) = answer.errors
    row = issue_row(error, SPEC_ID, 0, OBSERVED)
    assert row["type"] == "Warning"
    assert row["code"] == "SchemaIncompatible"
    assert row["source"] == "event.schema"
    assert row["title"].endswith("version: 1-0-13")
    assert (row["eventSpecId"], row["event_spec_version"], row["observed_at"]) == (
        SPEC_ID,
        0,
        OBSERVED,
    )


def test_issue_row_key_fields_missing_from_the_entry_are_empty_not_null() -> None:
    row = issue_row({"type": "Warning", "code": "SchemaUndecidable"}, SPEC_ID, 1, OBSERVED)
    assert (row["title"], row["source"], row["code"]) == ("", "", "SchemaUndecidable")


@pytest.mark.parametrize(
    ("payload", "specs", "history", "errors"),
    [
        (None, 0, 0, 0),  # an empty body
        ({}, 0, 0, 0),  # nothing in it
        ({"data": None, "includes": None, "errors": None}, 0, 0, 0),
        ({"data": {"id": "a"}}, 1, 0, 0),  # a single spec not wrapped in an array
        ({"data": [{"id": "a"}], "extra": 1}, 1, 0, 0),  # unknown top-level fields
        (
            {
                "data": [{"id": "a"}],
                "includes": [
                    {"type": "History", "date": "2026-01-01T00:00:00Z", "version": 0},
                    {"type": "history", "date": "2026-01-02T00:00:00Z", "version": 1},
                    {"type": "DataProduct", "id": "p"},  # other include types are ignored
                    {"date": "2026-01-03T00:00:00Z", "version": 2},  # untyped history
                    {"id": "no history fields"},
                ],
            },
            1,
            3,
            0,
        ),
    ],
)
def test_envelope_shapes_tolerated(payload: Any, specs: int, history: int, errors: int) -> None:
    envelope = parse_envelope(payload, ENDPOINT)
    assert (len(envelope.specs), len(envelope.history), len(envelope.errors)) == (
        specs,
        history,
        errors,
    )


@pytest.mark.parametrize(
    "payload",
    [[{"id": "a"}], "text", {"data": "a"}, {"data": [1]}, {"includes": {"type": "History"}}],
)
def test_envelope_of_another_shape_is_refused_naming_the_endpoint(payload: Any) -> None:
    with pytest.raises(VendorPayloadError, match="event-specs/v1"):
        parse_envelope(payload, ENDPOINT)


def test_history_relates_to_specs_by_event_spec_id() -> None:
    entries: list[dict[str, Any]] = [
        {"eventSpecId": "a", "v": 1},
        {"eventSpecId": "b", "v": 2},
        {"v": 3},
    ]
    assert history_of(entries, "a") == [{"eventSpecId": "a", "v": 1}, {"v": 3}]


@pytest.mark.parametrize(
    ("version", "expected"), [(3, 3), ("3", 3), (0, 0)], ids=["int", "string", "zero"]
)
def test_history_version_numbers_as_strings_are_whole_numbers(version: Any, expected: int) -> None:
    entry = {"date": "2026-01-01T00:00:00Z", "version": version}
    assert history_row(entry, "a", ENDPOINT)["version"] == expected


@pytest.mark.parametrize(
    "entry",
    [
        {"date": "2026-01-01T00:00:00Z", "version": "v2"},
        {"date": "2026-01-01T00:00:00Z"},
        {"version": 1},
        {"version": 1, "date": "yesterday"},
    ],
)
def test_history_entry_without_a_usable_key_is_refused(entry: dict[str, Any]) -> None:
    with pytest.raises(VendorPayloadError, match="history"):
        history_row(entry, "a", ENDPOINT)


def test_latest_change_is_the_newest_date_whatever_the_order() -> None:
    entries = [
        {"date": "2026-01-02T00:00:00.5Z"},
        {"date": "2026-01-03T00:00:00+01:00"},
        {"date": "2026-01-01T00:00:00Z"},
    ]
    assert latest_change(entries, ENDPOINT) == pendulum.datetime(2026, 1, 2, 23, 0, 0)
    assert latest_change([], ENDPOINT) is None


def test_live_spec_row_keeps_fields_and_is_not_deleted() -> None:
    spec = documented_spec_with_findings()["data"][0]
    checked_at = pendulum.datetime(2026, 1, 2)
    row = spec_row(spec, "org", checked_at)
    assert row["event"] == documented()["event"]
    assert (
        row["is_deleted"],
        row["deleted_seen_at"],
        row["organization_id"],
        row["compatibility_checked_at"],
    ) == (False, None, "org", checked_at)


def test_deleted_row_keeps_the_stored_fields_without_dlt_columns() -> None:
    stored = {"id": "a", "name": "Search", "_dlt_id": "x", "_dlt_load_id": "1", "is_deleted": False}
    row = deleted_row(stored, "a", OBSERVED)
    assert row == {"id": "a", "name": "Search", "is_deleted": True, "deleted_seen_at": OBSERVED}
    assert deleted_row(None, "a", OBSERVED) == {
        "id": "a",
        "is_deleted": True,
        "deleted_seen_at": OBSERVED,
    }
