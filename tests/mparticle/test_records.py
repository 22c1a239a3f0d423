"""Row building: credentials dropped, v2 spellings mapped, numbers, UTC times, run keys."""

from __future__ import annotations

import time
from typing import Any

import pendulum
import pytest

from jobpulse.sources.mparticle.records import (
    is_credential,
    pipeline_row,
    resource_row,
    run_row,
    status_row,
    without_credentials,
)
from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.redaction import redact

ENDPOINT = "GET /runs"
OBSERVED = pendulum.datetime(2026, 3, 2, 12, 30)

DOC_RUN: dict[str, Any] = {
    "pipeline_run_id": 637,
    "id": "example-pipeline",
    "workspace_id": 5328,
    "logical_date": "2022-10-31T21:00:00Z",
    "start_date": "2022-12-20T19:06:40Z",
    "end_date": "2022-12-20T19:08:09Z",
    "data_interval_start": "2022-10-31T21:00:00Z",
    "data_interval_end": "2022-10-31T22:00:00Z",
    "pipeline_run_type": "scheduled",
    "pipeline_run_state": "failed",
    "is_externally_triggered": False,
    "records_extracted": 1376,
    "records_mapped": 1376,
    "event_batches_generated": 1376,
    "created_on": "2022-10-31T22:00:04.453",
    "created_by": "developer@mparticle.com",
    "last_modified_on": "2022-12-20T19:08:09.057",
    "last_modified_by": "developer@mparticle.com",
}


@pytest.mark.parametrize(
    "name",
    [
        "password", "partner_feed_key", "partnerFeedKey", "client_secret", "api_key",
        "access_token", "private_key", "service_account_key", "credentials", "Password",
    ],
)  # fmt: skip
def test_credential_like_names_are_recognised(name: str) -> None:
    assert is_credential(name)


@pytest.mark.parametrize(
    "name",
    [
        "partner_feed_id",
        "primary_key",
        "user",
        "snowflake_aws_external_id",
        "load_timestamp_field_name",
    ],
)
def test_ordinary_fields_are_not_credentials(name: str) -> None:
    assert not is_credential(name)


def test_credentials_are_dropped_at_any_depth_and_unmasked_values_redacted() -> None:
    record = {
        "id": "c",
        "password": "hunter2-real",
        "config": {"user": "mp_user", "password": "nested-secret", "keys": [{"api_key": "k1"}]},
    }

    cleaned = without_credentials(record)

    assert cleaned == {"id": "c", "config": {"user": "mp_user", "keys": [{}]}}
    assert redact("hunter2-real nested-secret") == "*** ***"


def test_a_v2_connection_gets_is_faulted_and_type_and_keeps_its_own_fields() -> None:
    v2 = {"id": "c", "status": "faulted", "service_provider": "Snowflake", "state": "active"}

    row = resource_row(v2, ENDPOINT)

    assert (row["is_faulted"], row["type"], row["is_active"]) == (True, "Snowflake", True)
    assert (row["status"], row["service_provider"]) == ("faulted", "Snowflake")


def test_a_v2_connection_config_fills_the_v1_columns_without_its_password() -> None:
    v2 = {
        "id": "c",
        "config": {
            "account_identifier": "gd1234",
            "database": "mp",
            "password": "pw-in-config",
            "aws_external_id": "GD1234=2_abcdefg=",
        },
    }

    row = resource_row(v2, ENDPOINT)

    assert (row["source_account_id"], row["database"]) == ("gd1234", "mp")
    assert row["snowflake_aws_external_id"] == "GD1234=2_abcdefg="
    assert "password" not in row
    assert "password" not in row["config"]


@pytest.mark.parametrize(("status", "faulted"), [("healthy", False), ("Faulted", True)])
def test_v2_status_maps_to_is_faulted(status: str, faulted: bool) -> None:
    assert resource_row({"id": "p", "status": status}, ENDPOINT)["is_faulted"] is faulted


def test_the_v1_spelling_wins_when_both_are_sent() -> None:
    row = resource_row({"id": "p", "is_faulted": False, "status": "faulted"}, ENDPOINT)
    assert row["is_faulted"] is False


@pytest.mark.usefixtures("new_york")
@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2022-10-19T17:08:10.013", pendulum.datetime(2022, 10, 19, 17, 8, 10, 13_000)),
        ("2022-11-07T23:31:16.78", pendulum.datetime(2022, 11, 7, 23, 31, 16, 780_000)),
        ("2023-02-07T20:36:00", pendulum.datetime(2023, 2, 7, 20, 36)),
        ("2023-02-01T00:05:00Z", pendulum.datetime(2023, 2, 1, 0, 5)),
    ],
)
def test_timestamps_without_a_zone_are_utc_whatever_the_machine_zone(
    sent: str, utc: pendulum.DateTime
) -> None:
    assert time.strftime("%Z") in ("EST", "EDT"), "the machine zone must really be New York"

    row = resource_row({"id": "c", "created_on": sent}, ENDPOINT)

    assert row["created_on"] == utc
    assert row["created_on"].utcoffset() == pendulum.duration(0)


def test_a_listed_pipeline_is_not_deleted_and_a_gone_one_carries_when_it_was_seen_gone() -> None:
    record = {"id": "p", "partner_feed_key": "us1-1234567", "partner_feed_id": 2124}

    listed = pipeline_row(record, ENDPOINT)
    gone = pipeline_row(record, ENDPOINT, deleted_seen_at=OBSERVED)

    assert (listed["is_deleted"], listed["deleted_seen_at"]) == (False, None)
    assert (gone["is_deleted"], gone["deleted_seen_at"]) == (True, OBSERVED)
    assert "partner_feed_key" not in listed
    assert listed["partner_feed_id"] == 2124


def test_a_run_stores_its_id_as_pipeline_id_and_derives_timing() -> None:
    row = run_row(DOC_RUN, "asked-for", ENDPOINT)

    assert "id" not in row
    assert row["pipeline_id"] == "example-pipeline"
    assert row["started_at"] == pendulum.datetime(2022, 12, 20, 19, 6, 40)
    assert row["ended_at"] == pendulum.datetime(2022, 12, 20, 19, 8, 9)
    assert row["duration_seconds"] == 89.0


def test_a_run_without_id_belongs_to_the_pipeline_whose_runs_were_listed() -> None:
    run = {key: value for key, value in DOC_RUN.items() if key != "id"}
    assert run_row(run, "asked-for", ENDPOINT)["pipeline_id"] == "asked-for"


@pytest.mark.parametrize("state", ["running", "queued", "triggered", "dataset_triggered"])
def test_a_run_not_terminal_has_no_end_even_when_end_date_is_sent(state: str) -> None:
    row = run_row({**DOC_RUN, "pipeline_run_state": state}, "p", ENDPOINT)
    assert (row["ended_at"], row["duration_seconds"]) == (None, None)
    assert row["started_at"] is not None


@pytest.mark.parametrize(
    ("sent", "stored"), [("1376", 1376), (" 12 ", 12), ("1,376", 1376), (7.0, 7), (None, None)]
)
def test_counts_are_numbers_even_when_sent_as_strings(sent: Any, stored: int | None) -> None:
    row = run_row({**DOC_RUN, "records_extracted": sent}, "p", ENDPOINT)
    assert row["records_extracted"] == stored
    assert stored is None or isinstance(row["records_extracted"], int)


def test_a_run_id_sent_as_digits_is_an_integer() -> None:
    assert run_row({**DOC_RUN, "pipeline_run_id": "251"}, "p", ENDPOINT)["pipeline_run_id"] == 251


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"pipeline_run_id": None}, "no pipeline_run_id"),
        ({"pipeline_run_id": "run-x"}, "not an integer"),
        ({"records_mapped": "many"}, "records_mapped 'many' is not a number"),
        ({"start_date": "yesterday"}, "start_date"),
    ],
)
def test_bad_run_fields_raise_an_error_naming_the_endpoint(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(VendorPayloadError, match=problem) as raised:
        run_row({**DOC_RUN, **change}, "p", ENDPOINT)
    assert "mParticle API GET /runs" in str(raised.value)


def test_a_status_snapshot_takes_flags_from_the_status_and_the_reason_from_the_pipeline() -> None:
    pipeline = {"id": "p", "is_faulted": True, "faulted_reason": "bad password"}
    status = {
        "pipeline_id": "p",
        "is_faulted": True,
        "is_connection_faulted": "true",
        "is_connection_active": True,
        "is_active": False,
        "latest_pipeline_run": {**DOC_RUN, "pipeline_run_id": 2171},
    }

    row = status_row(pipeline, status, OBSERVED, ENDPOINT)

    assert row == {
        "pipeline_id": "p",
        "observed_at": OBSERVED,
        "is_active": False,
        "is_faulted": True,
        "is_connection_active": True,
        "is_connection_faulted": True,
        "faulted_reason": "bad password",
        "latest_pipeline_run_id": 2171,
        "latest_pipeline_run_state": "failed",
    }


def test_a_v2_status_snapshot_maps_status_to_is_faulted() -> None:
    row = status_row({"id": "p"}, {"status": "healthy"}, OBSERVED, ENDPOINT)
    assert row["is_faulted"] is False
