"""Parsing Tailer's run fields: durations, terminal statuses, derived times, documented payloads."""

from __future__ import annotations

import pendulum
import pytest

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.tailer.identity import Operation
from jobpulse.sources.tailer.records import is_terminal, parse_duration, run_row

OPERATION = Operation("000099", "DEV", "table-to-table", "000099_iowa_liquor_prepare_pda")
ENDPOINT = "POST /v1/dag/status (get_last_status)"

# The documented get_last_status result (vendor-docs/tailer-api.txt), first run.
DOC_RUN = {
    "account": "000099",
    "configuration_id": "000099_iowa_liquor_prepare_pda_DEV",
    "configuration_type": "gbq-to-gbq",
    "duration": "0:01:24.002519",
    "environment": "DEV",
    "job_id": "gbq-to-gbq|000099_iowa_liquor_prepare_pda_DEV",
    "last_update_date": "2020-12-30T11:30:07.960767+00:00",
    "run_id": "20201230-112837-0a795c70-2557-4a60-ba16-788aa2bea179",
    "start_execution_date": "2020-12-30T11:28:43.861340+00:00",
    "status": "SUCCESS",
}
# The documented storage-to-storage run: whole-second start, no last_update_date.
DOC_STORAGE_RUN = {
    "account": "000099",
    "configuration_id": "000099-jarvis-demo-iowa-liquor-storage-to-storage",
    "configuration_type": "storage-to-storage",
    "duration": "0:00:03.885654",
    "environment": "DEV",
    "job_id": "storage-to-storage|000099|000099-jarvis-demo-iowa-liquor-storage-to-storage|DEV|"
    "stores-{{FD_DATE}}-{{FD_TIME}}.csv",
    "run_id": "20201209-cf026ae9-c79c-4cf9-8ffb-0bb63ad39469",
    "start_execution_date": "2020-12-09T17:17:23+00:00",
    "status": "SUCCESS",
}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:01:24.002519", 84.002519),
        ("0:00:03.885654", 3.885654),
        ("12:00:00", 43200.0),
        ("1 day, 2:03:04.500000", 86400 + 7384.5),
        ("3 days, 0:00:00.000001", 3 * 86400 + 0.000001),
        ("26:00:00", 93600.0),
        (84.5, 84.5),
        ("84.5", 84.5),
        ("PT1M30S", 90.0),
        (None, None),
        ("", None),
    ],
)
def test_durations_in_timedelta_form_parse_to_seconds(text: object, seconds: float | None) -> None:
    parsed = parse_duration(text)
    assert parsed == (None if seconds is None else pytest.approx(seconds, abs=1e-9))


@pytest.mark.parametrize("text", ["soon", "1 week, 0:00:00", "1:2"])
def test_a_duration_that_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("SUCCESS", True),
        ("FAILED", True),
        ("Checked", True),
        ("No match", True),
        ("CHECKED", True),
        ("NO_MATCH", True),
        ("RUNNING", False),
        ("WAITING", False),
        (None, False),
    ],
)
def test_terminal_statuses(status: str | None, terminal: bool) -> None:
    assert is_terminal({"status": status}) is terminal


def test_documented_run_keeps_every_field_and_gains_identity_and_times() -> None:
    row = run_row(DOC_RUN, OPERATION, ENDPOINT)

    assert {key: row[key] for key in DOC_RUN} == DOC_RUN
    assert row["tracked_configuration_type"] == "table-to-table"
    assert row["tracked_configuration_id"] == "000099_iowa_liquor_prepare_pda"
    assert row["started_at"] == pendulum.datetime(2020, 12, 30, 11, 28, 43, 861340)
    assert row["duration_seconds"] == pytest.approx(84.002519)
    assert row["ended_at"] == pendulum.datetime(2020, 12, 30, 11, 30, 7, 863859)


def test_storage_run_with_whole_second_start_and_no_last_update() -> None:
    row = run_row(DOC_STORAGE_RUN, OPERATION, ENDPOINT)
    assert row["started_at"] == pendulum.datetime(2020, 12, 9, 17, 17, 23)
    assert row["ended_at"] == pendulum.datetime(2020, 12, 9, 17, 17, 26, 885654)
    assert "last_update_date" not in row


@pytest.mark.parametrize("duration", [None, "0:00:12.000000"])
def test_a_running_run_has_no_end_whatever_its_duration(duration: str | None) -> None:
    row = run_row({**DOC_RUN, "status": "RUNNING", "duration": duration}, OPERATION, ENDPOINT)
    assert row["ended_at"] is None
    assert row["is_terminal"] is False


def test_a_run_longer_than_a_day_ends_the_next_day() -> None:
    run = {**DOC_RUN, "duration": "1 day, 1:00:00.000000", "status": "No match"}
    row = run_row(run, OPERATION, ENDPOINT)
    assert row["status"] == "No match"
    assert row["ended_at"] == pendulum.datetime(2020, 12, 31, 12, 28, 43, 861340)


def test_missing_identity_fields_are_filled_from_the_tracked_operation() -> None:
    run = {key: value for key, value in DOC_RUN.items() if key not in ("account", "environment")}
    row = run_row(run, OPERATION, ENDPOINT)
    assert (row["account"], row["environment"]) == ("000099", "DEV")


@pytest.mark.parametrize("missing", ["job_id", "run_id"])
def test_a_run_without_its_key_is_a_payload_error_naming_the_endpoint(missing: str) -> None:
    run = {key: value for key, value in DOC_RUN.items() if key != missing}
    with pytest.raises(VendorPayloadError, match=r"Tailer API POST /v1/dag/status"):
        run_row(run, OPERATION, ENDPOINT)


def test_an_unreadable_start_or_duration_is_a_payload_error() -> None:
    with pytest.raises(VendorPayloadError, match="timestamp"):
        run_row({**DOC_RUN, "start_execution_date": "yesterday"}, OPERATION, ENDPOINT)
    with pytest.raises(VendorPayloadError, match="duration"):
        run_row({**DOC_RUN, "duration": "long"}, OPERATION, ENDPOINT)


def test_a_finished_run_without_duration_ends_at_its_last_update() -> None:
    row = run_row({**DOC_RUN, "duration": None}, OPERATION, ENDPOINT)
    assert row["duration_seconds"] is None
    assert row["ended_at"] == pendulum.datetime(2020, 12, 30, 11, 30, 7, 960767)
    bare = {**DOC_STORAGE_RUN, "duration": ""}
    assert run_row(bare, OPERATION, ENDPOINT)["ended_at"] is None
