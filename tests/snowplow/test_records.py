"""Rows for the Snowplow raw tables: vendor fields kept, derived keys, UTC times and durations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.snowplow.records import (
    is_failed,
    is_terminal,
    keep_tail,
    log_row,
    run_row,
    state_of,
    step_row,
)

ENDPOINT = "GET /api/msc/v1/organizations/org/jobs/v1/runs"
STEP_ENDPOINT = "GET runs/run-1/steps"
ORGANIZATION_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
UTC = pendulum.timezone("UTC")

RUN = {
    "runId": "run-1",
    "jobId": "job-7",
    "jobName": "web model",
    "environment": "prod",
    "state": "SUCCEEDED",
    "startTime": "2026-03-02T10:00:00Z",
    "endTime": "2026-03-02T10:12:30.500Z",
    "trigger": "schedule",
    "steps": [{"name": "base", "state": "SUCCEEDED"}],
}


# --- run_row ----------------------------------------------------------------------------------


def test_run_row_keeps_vendor_fields_drops_embedded_steps_and_adds_timing() -> None:
    row = run_row(RUN, ENDPOINT, ORGANIZATION_ID)

    assert "steps" not in row
    assert {k: v for k, v in row.items() if k in RUN} == {
        k: v for k, v in RUN.items() if k != "steps"
    }
    assert row["started_at"] == pendulum.datetime(2026, 3, 2, 10, 0, 0)
    assert row["ended_at"] == pendulum.datetime(2026, 3, 2, 10, 12, 30, 500_000)
    assert row["duration_seconds"] == 750.5
    assert set(row) == set(RUN) - {"steps"} | {
        "started_at",
        "ended_at",
        "duration_seconds",
        "organization_id",
    }
    assert row["organization_id"] == ORGANIZATION_ID
    assert "steps" in RUN  # the vendor's dict is left as it was


@pytest.mark.parametrize("state", ["SUCCEEDED", "FAILED", "SKIPPED", "succeeded_no_op"])
def test_a_finished_run_without_an_end_time_ends_at_start_plus_duration(state: str) -> None:
    run = {"runId": "r", "state": state, "startTime": "2026-03-02T10:00:00Z", "duration": "PT2M5S"}
    row = run_row(run, ENDPOINT, ORGANIZATION_ID)
    assert row["ended_at"] == pendulum.datetime(2026, 3, 2, 10, 2, 5)
    assert row["duration_seconds"] == 125.0


@pytest.mark.parametrize("state", ["RUNNING", "WAITING"])
def test_a_run_in_progress_keeps_its_elapsed_duration_and_has_no_end(state: str) -> None:
    run = {"runId": "r", "state": state, "startTime": "2026-03-02T10:00:00Z", "duration": "PT30S"}
    row = run_row(run, ENDPOINT, ORGANIZATION_ID)
    assert row["ended_at"] is None
    assert row["duration_seconds"] == 30.0


def test_a_vendor_organization_field_gives_way_to_the_configured_organization() -> None:
    run = {"runId": "r", "state": "RUNNING", "organizationId": "someone-else"}
    row = run_row(run, ENDPOINT, ORGANIZATION_ID)
    assert "organizationId" not in row
    assert row["organization_id"] == ORGANIZATION_ID


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-02T11:00:00+01:00", pendulum.datetime(2026, 3, 2, 10, 0, 0)),
        ("2026-03-02T05:00:00-05:00", pendulum.datetime(2026, 3, 2, 10, 0, 0)),
        ("2026-03-02T10:00:00", pendulum.datetime(2026, 3, 2, 10, 0, 0)),
        (1772445600, pendulum.datetime(2026, 3, 2, 10, 0, 0)),
        (1772445600000, pendulum.datetime(2026, 3, 2, 10, 0, 0)),
    ],
    ids=["plus-offset", "minus-offset", "naive", "epoch-seconds", "epoch-millis"],
)
def test_run_row_times_are_utc_whatever_the_vendor_sends(
    start: object, expected: pendulum.DateTime
) -> None:
    row = run_row({"runId": "r", "state": "RUNNING", "startTime": start}, ENDPOINT, ORGANIZATION_ID)

    assert row["started_at"] == expected
    assert row["started_at"].timezone_name == "UTC"


def test_a_running_run_has_no_end_and_no_duration() -> None:
    row = run_row(
        {"runId": "r", "state": "RUNNING", "startTime": "2026-03-02T10:00:00Z"},
        ENDPOINT,
        ORGANIZATION_ID,
    )

    assert row["ended_at"] is None
    assert row["duration_seconds"] is None


@pytest.mark.parametrize(
    ("run", "expected_run_id"),
    [({"runId": "run-1"}, None), ({"id": "run-2"}, "run-2"), ({"id": 42}, "42")],
    ids=["runId-kept-as-sent", "id", "numeric-id"],
)
def test_run_row_adds_run_id_only_when_the_vendor_names_it_otherwise(
    run: dict[str, Any], expected_run_id: str | None
) -> None:
    row = run_row(run, ENDPOINT, ORGANIZATION_ID)

    assert row.get("run_id") == expected_run_id
    assert {k: row[k] for k in run} == run


@pytest.mark.parametrize("run", [{}, {"runId": ""}, {"runId": None, "state": "RUNNING"}])
def test_a_run_without_an_id_raises_a_payload_error_naming_the_endpoint(
    run: dict[str, Any],
) -> None:
    with pytest.raises(VendorPayloadError, match="runId") as raised:
        run_row(run, ENDPOINT, ORGANIZATION_ID)

    assert raised.value.endpoint == ENDPOINT
    assert ENDPOINT in str(raised.value)


# --- step_row ---------------------------------------------------------------------------------

STEP = {
    "name": "dbt run / sessions",
    "state": "FAILED",
    "dependencies": ["base"],
    "startTime": "2026-03-02T10:01:00Z",
    "endTime": "2026-03-02T10:02:30Z",
    "duration": "PT1M30S",
    "stdout": "lots of output",
    "stderr": "boom",
}


def test_step_row_is_keyed_by_run_id_and_step_name_without_the_logs() -> None:
    row = step_row("run-1", STEP, STEP_ENDPOINT, ORGANIZATION_ID)

    assert row["run_id"] == "run-1"
    assert row["step_name"] == "dbt run / sessions"
    assert "stdout" not in row
    assert "stderr" not in row
    assert row["name"] == STEP["name"]
    assert row["dependencies"] == ["base"]
    assert row["started_at"] == pendulum.datetime(2026, 3, 2, 10, 1, 0)
    assert row["ended_at"] == pendulum.datetime(2026, 3, 2, 10, 2, 30)


@pytest.mark.parametrize(
    "extra",
    [{"runId": "other-run"}, {"stepName": "other"}, {"run_id": "x", "step_name": "y"}],
    ids=["runId", "stepName", "snake-case"],
)
def test_step_row_key_columns_win_over_vendor_fields_of_the_same_name(
    extra: dict[str, Any],
) -> None:
    row = step_row("run-1", {"name": "base", **extra}, STEP_ENDPOINT, ORGANIZATION_ID)

    assert row["run_id"] == "run-1"
    assert row["step_name"] == "base"
    vendor_keys = set(extra) - {"run_id", "step_name"}
    assert not vendor_keys & set(row)


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        ({"duration": "PT1M30S"}, 90.0),
        ({"duration": "PT1H2M3S"}, 3723.0),
        ({"duration": "PT0.25S"}, 0.25),
        ({"duration": 12.5}, 12.5),
        (
            {
                "duration": "PT1M30S",
                "startTime": "2026-03-02T10:00:00Z",
                "endTime": "2026-03-02T10:05:00Z",
            },
            90.0,
        ),
        ({"startTime": "2026-03-02T10:00:00Z", "endTime": "2026-03-02T10:00:45.5Z"}, 45.5),
        (
            {
                "duration": None,
                "startTime": "2026-03-02T10:00:00Z",
                "endTime": "2026-03-02T10:01:00Z",
            },
            60.0,
        ),
        ({"startTime": "2026-03-02T10:00:00Z"}, None),
        ({}, None),
    ],
    ids=[
        "iso-minutes",
        "iso-hours",
        "iso-fraction",
        "number",
        "iso-wins-over-end-minus-start",
        "end-minus-start",
        "null-duration",
        "no-end",
        "nothing",
    ],
)
def test_step_duration_comes_from_the_iso_duration_else_from_end_minus_start(
    timing: dict[str, Any], expected: float | None
) -> None:
    row = step_row("run-1", {"name": "base", **timing}, STEP_ENDPOINT, ORGANIZATION_ID)

    assert row["duration_seconds"] == expected


@pytest.mark.parametrize(
    "step", [{}, {"name": ""}, {"state": "FAILED"}], ids=["empty", "blank", "no-name"]
)
def test_a_step_without_a_name_raises_a_payload_error_naming_the_endpoint(
    step: dict[str, Any],
) -> None:
    with pytest.raises(VendorPayloadError, match="name") as raised:
        step_row("run-1", step, STEP_ENDPOINT, ORGANIZATION_ID)

    assert raised.value.endpoint == STEP_ENDPOINT


# --- malformed values -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["startTime", "endTime"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T00:00:00Z", True, {"at": 1}])
@pytest.mark.parametrize(
    "make_row",
    [
        lambda item, endpoint: run_row(item, endpoint, ORGANIZATION_ID),
        lambda item, endpoint: step_row("run-1", item, endpoint, ORGANIZATION_ID),
    ],
    ids=["run_row", "step_row"],
)
def test_a_malformed_timestamp_raises_a_payload_error_naming_the_endpoint(
    field: str, value: object, make_row: Callable[[dict[str, Any], str], dict[str, Any]]
) -> None:
    item = {"runId": "run-1", "name": "base", field: value}

    with pytest.raises(VendorPayloadError) as raised:
        make_row(item, ENDPOINT)

    assert raised.value.endpoint == ENDPOINT
    assert ENDPOINT in str(raised.value)
    assert "timestamp" in str(raised.value)


@pytest.mark.parametrize("value", ["ninety seconds", True, "2026-03-02T10:00:00Z"])
def test_a_malformed_duration_raises_a_payload_error_naming_the_endpoint(value: object) -> None:
    with pytest.raises(VendorPayloadError) as raised:
        step_row("run-1", {"name": "base", "duration": value}, STEP_ENDPOINT, ORGANIZATION_ID)

    assert raised.value.endpoint == STEP_ENDPOINT
    assert "duration" in str(raised.value)


# --- keep_tail and log_row --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "max_bytes", "expected"),
    [
        ("abcdef", 3, ("def", True)),
        ("abc", 3, ("abc", False)),
        ("abc", 10, ("abc", False)),
        ("", 1, ("", False)),
        ("aé", 1, ("", True)),  # é is two bytes: its second byte alone is not kept
        ("aé", 2, ("é", True)),
        ("日本語", 4, ("語", True)),  # three bytes each; 本's last byte is dropped
        ("日本語", 6, ("本語", True)),
        ("😀x", 4, ("x", True)),  # four-byte emoji cut: dropped whole
        ("x😀", 4, ("😀", True)),
    ],
)
def test_keep_tail_keeps_the_last_bytes_without_splitting_a_character(
    text: str, max_bytes: int, expected: tuple[str, bool]
) -> None:
    assert keep_tail(text, max_bytes) == expected


@settings(max_examples=200, deadline=None)
@given(text=st.text(), max_bytes=st.integers(1, 64))
def test_keep_tail_is_the_longest_whole_character_suffix_within_the_byte_limit(
    text: str, max_bytes: int
) -> None:
    tail, truncated = keep_tail(text, max_bytes)

    size = len(tail.encode("utf-8"))
    assert text.endswith(tail)
    assert size <= max_bytes
    assert truncated == (len(text.encode("utf-8")) > max_bytes)
    if not truncated:
        assert tail == text
    else:
        # Adding the next character back would exceed the limit: nothing more could be kept.
        longer = text[len(text) - len(tail) - 1 :]
        assert len(longer.encode("utf-8")) > max_bytes


def test_log_row_caps_both_streams_and_flags_each_one() -> None:
    stdout = "line\n" * 40  # 200 bytes
    stderr = "error: é\n"  # 10 bytes
    detail = {"name": "base", "state": "FAILED", "stdout": stdout, "stderr": stderr}

    row = log_row("run-1", "base", detail, max_bytes=50)

    assert row["run_id"] == "run-1"
    assert row["step_name"] == "base"
    assert row["state"] == "FAILED"
    assert row["stdout"] == stdout[-50:]
    assert row["stdout_truncated"] is True
    assert row["stdout_bytes"] == 200
    assert row["stderr"] == stderr
    assert row["stderr_truncated"] is False
    assert row["stderr_bytes"] == 10


def test_log_row_caps_a_long_stderr_too() -> None:
    row = log_row("run-1", "base", {"stdout": "ok", "stderr": "é" * 100}, max_bytes=9)

    assert row["stderr"] == "é" * 4  # 8 bytes: a ninth byte would split the fifth é
    assert row["stderr_truncated"] is True
    assert row["stderr_bytes"] == 200
    assert row["stdout"] == "ok"
    assert row["stdout_truncated"] is False


@pytest.mark.parametrize("detail", [{}, {"stdout": None, "stderr": None}], ids=["absent", "null"])
def test_log_row_stores_missing_streams_as_empty_and_untruncated(detail: dict[str, Any]) -> None:
    row = log_row("run-1", "base", detail, max_bytes=10)

    for stream in ("stdout", "stderr"):
        assert row[stream] == ""
        assert row[f"{stream}_truncated"] is False
        assert row[f"{stream}_bytes"] == 0


def test_log_row_survives_a_lone_surrogate_decoded_from_json() -> None:
    detail = json.loads('{"state": "FAILED", "stdout": "cut here \\ud83d", "stderr": null}')

    row = log_row("run-1", "base", detail, max_bytes=64)

    assert row["stdout"].startswith("cut here")
    row["stdout"].encode("utf-8")  # storable as UTF-8


# --- states -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        {"state": "SUCCEEDED"},
        {"state": "FAILED"},
        {"state": "succeeded"},
        {"state": "Failed"},
        {"state": "CANCELLED"},
        {"state": "SKIPPED"},
        {"status": "TIMED_OUT"},
        {"state": "SOMETHING_NEW", "endTime": "2026-03-02T10:00:00Z"},
        {"endTime": "2026-03-02T10:00:00Z"},
        {"state": "RUNNING", "finishedAt": "2026-03-02T10:00:00Z"},
    ],
    ids=[
        "succeeded",
        "failed",
        "lower-case",
        "mixed-case",
        "cancelled",
        "skipped",
        "status-key",
        "unknown-with-end",
        "no-state-with-end",
        "end-under-another-key",
    ],
)
def test_is_terminal_for_terminal_states_or_an_end_time(item: dict[str, Any]) -> None:
    assert is_terminal(item) is True


@pytest.mark.parametrize(
    "item",
    [
        {"state": "RUNNING"},
        {"state": "QUEUED"},
        {"state": "PENDING"},
        {"state": "running"},
        {"state": "SOMETHING_NEW"},
        {"state": "SOMETHING_NEW", "endTime": None},
        {},
    ],
    ids=["running", "queued", "pending", "lower-case", "unknown", "unknown-null-end", "nothing"],
)
def test_is_not_terminal_while_running_or_unknown_without_an_end_time(item: dict[str, Any]) -> None:
    assert is_terminal(item) is False


def test_a_running_run_with_an_empty_end_time_is_not_terminal() -> None:
    assert is_terminal({"state": "RUNNING", "endTime": ""}) is False


@pytest.mark.parametrize(
    ("item", "expected"),
    [({"state": "failed"}, "FAILED"), ({"status": "Running"}, "RUNNING"), ({}, "")],
)
def test_state_of_is_upper_cased_and_empty_when_absent(item: dict[str, Any], expected: str) -> None:
    assert state_of(item) == expected


@pytest.mark.parametrize(
    ("state", "failed"),
    [
        ("FAILED", True),
        ("error", True),
        ("TIMED_OUT", True),
        ("SUCCEEDED", False),
        ("SKIPPED", False),
    ],
)
def test_is_failed_only_for_failure_states(state: str, failed: bool) -> None:
    assert is_failed({"state": state}) is failed
