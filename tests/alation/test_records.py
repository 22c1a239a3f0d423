"""Parsing `msg`, `result` and job names: every rule, the documented examples first."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from jobpulse.sources.alation.records import job_ref, job_rows, parse_name
from jobpulse.sources.alation.sandbox import DOCUMENTED_BY_ID, DOCUMENTED_BY_NAME

DOC_NAME = (
    "MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-4ea1dc02-1c9f-41db-be6f-3f7cb1849da3"
)
UTC = "UTC"


def finished(msg: str, result: Any = "", status: str = "successful") -> dict[str, Any]:
    return {"status": status, "msg": msg, "result": result}


MSG = "Job finished in 1.0 seconds at 2017-01-12 23:52:34.307327+00:00"


def test_the_documented_name_example_gives_counts_errors_times_and_keys() -> None:
    rows = job_rows(DOCUMENTED_BY_NAME[DOC_NAME], None, DOC_NAME)

    assert rows.problems == []
    job = rows.job
    assert (job["job_ref"], job["job_id"], job["job_name"]) == (DOC_NAME, None, DOC_NAME)
    assert (job["job_type"], job["job_key"]) == ("MetadataExtraction", "MetadataExtraction#1")
    assert job["started_at"] == pendulum.datetime(2017, 10, 5, 19, 36, 45, 431906, tz=UTC)
    assert job["finished_at"] == pendulum.datetime(2017, 10, 5, 19, 36, 48, 374593, tz=UTC)
    assert job["ended_at"] == job["finished_at"]
    assert job["duration_seconds"] == 2.0
    assert (job["updated_objects"], job["number_received"], job["error_count"]) == (1, 2, 1)
    assert job["msg"] == DOCUMENTED_BY_NAME[DOC_NAME]["msg"]
    assert job["result"] == DOCUMENTED_BY_NAME[DOC_NAME]["result"]
    assert rows.errors == [
        {
            "job_ref": DOC_NAME,
            "position": 0,
            "error": "Line 1. Key: schema_b. Datasource id in key does not match the id in "
            "the request",
        }
    ]


def test_the_documented_query_log_example_gives_event_counts() -> None:
    rows = job_rows(DOCUMENTED_BY_ID[1], 1, None)

    job = rows.job
    assert rows.problems == []
    assert (job["job_ref"], job["job_id"], job["job_name"]) == ("id:1", 1, None)
    assert (job["new_events_ingested"], job["events_skipped"]) == (0, 1)
    assert (job["updated_objects"], job["number_received"], job["error_count"]) == (None,) * 3
    assert job["duration_seconds"] == 0.585993
    assert job["finished_at"] == pendulum.datetime(2017, 11, 30, 18, 59, 10, 445133, tz=UTC)
    assert job["result"] == DOCUMENTED_BY_ID[1]["result"]
    assert rows.errors == []


@pytest.mark.parametrize(
    ("name", "job_type", "job_key", "started_at"),
    [
        (
            DOC_NAME,
            "MetadataExtraction",
            "MetadataExtraction#1",
            pendulum.datetime(2017, 10, 5, 19, 36, 45, 431906, tz=UTC),
        ),
        (
            "MetadataExtraction#1_Virtual_2017-01-12-23-52-34-272077-00-00-f11a1877-2ce7-4f6c-"
            "98e7-9bf5f8c0abf2",
            "MetadataExtraction",
            "MetadataExtraction#1_Virtual",
            pendulum.datetime(2017, 1, 12, 23, 52, 34, 272077, tz=UTC),
        ),
        (
            "bulk_api_job_2017-09-10-17-07-04-918251-00-00-386321a8-4157-453a-8cf0-a5e68641c2ea",
            "bulk_api_job",
            "bulk_api_job",
            pendulum.datetime(2017, 9, 10, 17, 7, 4, 918251, tz=UTC),
        ),
        (  # whole seconds: str(datetime) leaves the microseconds out
            "ReportSources#2_2020-02-29-00-00-01-00-00-0f0e",
            "ReportSources",
            "ReportSources#2",
            pendulum.datetime(2020, 2, 29, 0, 0, 1, tz=UTC),
        ),
        ("nightly-refresh", "nightly-refresh", "nightly-refresh", None),
        ("Extraction#9_2017-13-45-00-00-00-000000-00-00-ab", "Extraction", "Extraction#9", None),
    ],
)
def test_job_type_key_and_start_come_from_the_name(
    name: str, job_type: str, job_key: str, started_at: pendulum.DateTime | None
) -> None:
    assert parse_name(name) == (job_type, job_key, started_at)


def test_a_job_known_by_id_has_no_name_facts_and_starts_at_end_minus_duration() -> None:
    job = job_rows(finished(MSG), 5, None).job

    assert (job["job_type"], job["job_key"], job["job_name"]) == (None, None, None)
    assert job["started_at"] == pendulum.datetime(2017, 1, 12, 23, 52, 33, 307327, tz=UTC)


@pytest.mark.parametrize(
    ("msg", "seconds", "at"),
    [
        (MSG, 1.0, pendulum.datetime(2017, 1, 12, 23, 52, 34, 307327, tz=UTC)),
        (
            "Job finished in 0.585993 seconds at 2017-11-30 18:59:10.445133+00:00",
            0.585993,
            pendulum.datetime(2017, 11, 30, 18, 59, 10, 445133, tz=UTC),
        ),
        (  # whole seconds, an offset, a trailing period
            "Job finished in 12 seconds at 2021-06-01 10:00:00+02:00.",
            12.0,
            pendulum.datetime(2021, 6, 1, 8, 0, 0, tz=UTC),
        ),
        (  # no offset: UTC
            "job failed in 3.5 seconds at 2021-06-01T10:00:00",
            3.5,
            pendulum.datetime(2021, 6, 1, 10, 0, 0, tz=UTC),
        ),
    ],
)
def test_finished_at_and_duration_come_from_msg(
    msg: str, seconds: float, at: pendulum.DateTime
) -> None:
    rows = job_rows(finished(msg), 1, None)

    assert (rows.job["duration_seconds"], rows.job["finished_at"]) == (seconds, at)
    assert rows.problems == []


@pytest.mark.parametrize(
    "result",
    [
        json.dumps({"updated_objects": 2, "number_received": 3, "error_objects": ["a", "b"]}),
        {"updated_objects": 2, "number_received": 3, "error_objects": ["a", "b"]},  # not encoded
        json.dumps({"updated_objects": "2", "number_received": 3.0, "error_objects": ["a", "b"]}),
        json.dumps(
            {"updated_objects": 2, "number_received": 3, "error_objects": json.dumps(["a", "b"])}
        ),
    ],
    ids=["encoded", "object", "numbers-as-text", "errors-encoded-again"],
)
def test_result_counts_and_errors_are_read_in_every_tolerated_spelling(result: Any) -> None:
    rows = job_rows(finished(MSG, result), 1, None)

    assert rows.problems == []
    assert (rows.job["updated_objects"], rows.job["number_received"]) == (2, 3)
    assert rows.job["error_count"] == 2
    assert [e["error"] for e in rows.errors] == ["a", "b"]
    assert [e["position"] for e in rows.errors] == [0, 1]


def test_a_result_sent_as_an_object_is_kept_as_its_json_text() -> None:
    document = {"updated_objects": 1, "number_received": 1, "error_objects": ["é"]}
    rows = job_rows(finished(MSG, document), 1, None)

    assert (
        rows.job["result"] == '{"updated_objects": 1, "number_received": 1, "error_objects": ["é"]}'
    )


def test_non_ascii_errors_are_intact_after_both_decodes() -> None:
    """The body's JSON escapes, then the result's own: é, — and Japanese come out as text."""
    inner = json.dumps({"error_objects": ["Clé — 行 9: 列が見つかりません"]})  # \\u escapes
    body = json.dumps({"status": "failed", "msg": MSG, "result": inner})
    assert "\\\\u00e9" in body, "the test needs doubly escaped text"

    rows = job_rows(json.loads(body), 4, None)

    assert rows.errors[0]["error"] == "Clé — 行 9: 列が見つかりません"
    assert rows.job["result"] == inner


def test_error_objects_that_are_objects_are_kept_as_json_text() -> None:
    result = json.dumps({"error_objects": [{"line": 1, "message": "Clé absente"}]})
    rows = job_rows(finished(MSG, result), 1, None)

    assert json.loads(rows.errors[0]["error"]) == {"line": 1, "message": "Clé absente"}
    assert rows.job["error_count"] == 1


@pytest.mark.parametrize(
    ("result", "new", "skipped"),
    [
        (
            "Bulk Query Ingestion Succeeded: 10 new events ingested, 3 previously-ingested "
            "events skipped.",
            10,
            3,
        ),
        (
            json.dumps(
                {
                    "result": "Bulk Query Ingestion Succeeded: 1 new event ingested, "
                    "0 previously-ingested events skipped."
                }
            ),
            1,
            0,
        ),
        (
            json.dumps(
                "Bulk Query Ingestion Succeeded: 5 new events ingested, 6 previously-ingested "
                "events skipped."
            ),
            5,
            6,
        ),
    ],
    ids=["plain", "wrapped-in-result", "json-string"],
)
def test_query_log_counts_are_read_from_the_sentence(result: str, new: int, skipped: int) -> None:
    rows = job_rows(finished(MSG, result), 1, None)

    assert (rows.job["new_events_ingested"], rows.job["events_skipped"]) == (new, skipped)
    assert rows.problems == []


PARSED_FROM_RESULT = (
    "updated_objects",
    "number_received",
    "error_count",
    "new_events_ingested",
    "events_skipped",
)


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ("{'updated_objects': 3, 'number_received': 3", "neither JSON"),
        (json.dumps([1, 2]), "not in a documented form"),
        (json.dumps({"something": "else"}), "not in a documented form"),
        (json.dumps({"updated_objects": "many"}), "updated_objects is not a count"),
        (json.dumps({"error_objects": "oops"}), "error_objects is not a list"),
    ],
)
def test_a_malformed_result_is_kept_raw_its_columns_null_and_the_problem_named(
    result: str, problem: str
) -> None:
    rows = job_rows(finished(MSG, result), 12, None)

    (reported,) = rows.problems
    assert problem in reported
    assert rows.job["result"] == result
    assert [rows.job[name] for name in PARSED_FROM_RESULT] == [None] * 5
    assert rows.errors == []
    assert rows.job["duration_seconds"] == 1.0, "msg is still parsed"


@pytest.mark.parametrize(
    "msg",
    [
        "Job done, see the logs.",
        "Job finished in 1.0 seconds at 2017-02-30 25:61:00",
        "Job finished in a while",
    ],
)
def test_a_malformed_msg_is_kept_raw_its_columns_null_and_the_problem_named(msg: str) -> None:
    result = json.dumps({"updated_objects": 2, "number_received": 2, "error_objects": []})
    rows = job_rows(finished(msg, result), 12, None)

    (reported,) = rows.problems
    assert "msg is not" in reported
    assert rows.job["msg"] == msg
    assert [rows.job[name] for name in ("finished_at", "ended_at", "duration_seconds")] == [
        None
    ] * 3
    assert rows.job["updated_objects"] == 2, "result is still parsed"


def test_a_missing_status_is_named_and_the_job_not_terminal() -> None:
    rows = job_rows({"msg": MSG, "result": ""}, 12, None)

    assert rows.problems == ["status is None, not a text"]
    assert not rows.is_terminal


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "running", "msg": "", "result": ""},
        {"status": "running", "msg": None, "result": None},
        {"status": "running", "msg": "Job is in progress", "result": ""},
        {"status": "running"},
    ],
)
def test_a_running_job_without_finish_facts_is_not_a_problem(payload: dict[str, Any]) -> None:
    rows = job_rows(payload, 9, None)

    assert rows.problems == []
    assert not rows.is_terminal
    assert (rows.job["finished_at"], rows.job["ended_at"]) == (None, None)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("successful", True),
        ("failed", True),
        ("FAILED", True),
        ("running", False),
        ("queued", False),
    ],
)
def test_only_successful_and_failed_are_terminal(status: str, terminal: bool) -> None:
    rows = job_rows(finished(MSG, "", status), 1, None)

    assert rows.is_terminal is terminal
    assert (rows.job["ended_at"] is not None) is terminal


def test_fields_beyond_the_documented_three_are_kept() -> None:
    payload = {**finished(MSG), "id": 3, "details": {"a": 1}}
    job = job_rows(payload, 3, None).job

    assert job["id"] == 3
    assert job["details"] == '{"a": 1}'


@pytest.mark.parametrize(("job_id", "name", "ref"), [(7, None, "id:7"), (None, "x#1_y", "x#1_y")])
def test_job_ref_is_id_colon_n_else_the_name(
    job_id: int | None, name: str | None, ref: str
) -> None:
    assert job_ref(job_id, name) == ref
