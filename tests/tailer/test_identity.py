"""Tracked operations: the jobs setting, and the `_<ENVIRONMENT>` suffix of table-to-table ids."""

from __future__ import annotations

import json
import logging

import pytest

from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.tailer import tailer_source
from jobpulse.sources.tailer.identity import Operation, parse_jobs


@pytest.mark.parametrize(
    ("configuration_type", "configuration_id", "environment", "expected"),
    [
        ("table-to-table", "000099_prepare_pda", "DEV", "000099_prepare_pda_DEV"),
        ("table-to-table", "000099_prepare_pda_DEV", "DEV", "000099_prepare_pda_DEV"),
        ("table-to-table", "000099_load_PROD", "PROD", "000099_load_PROD"),
        ("table-to-table", "000099_load_dev", "DEV", "000099_load_dev"),
        ("table-to-table", "000099_load_DEV", "PROD", "000099_load_DEV_PROD"),
        ("TABLE-TO-TABLE", "000099_load", "DEV", "000099_load_DEV"),
        ("storage-to-storage", "000099-jarvis-s2s", "DEV", "000099-jarvis-s2s"),
        ("workflow", "000099-iowa-liquor-load-pda", "DEV", "000099-iowa-liquor-load-pda"),
    ],
)  # fmt: skip
def test_the_environment_suffix_is_added_to_table_to_table_ids_once_and_never_doubled(
    configuration_type: str, configuration_id: str, environment: str, expected: str
) -> None:
    operation = Operation("000099", environment, configuration_type, configuration_id)
    assert operation.api_configuration_id == expected
    assert operation.body()["configuration_id"] == expected


JOBS = [
    {"account": "000099", "environment": "DEV", "configuration_type": "table-to-table",
     "configuration_id": "a_pda"},
    {"account": "000099", "environment": "DEV", "configuration_type": "table-to-table",
     "configuration_id": "b_pda_DEV"},
    {"account": "000099", "environment": "DEV", "configuration_type": "workflow",
     "configuration_id": "wf"},
]  # fmt: skip


@pytest.mark.parametrize("form", ["list", "json"])
def test_jobs_are_read_from_a_list_or_a_json_string(form: str) -> None:
    jobs = JOBS if form == "list" else json.dumps(JOBS)
    operations = parse_jobs(jobs)
    assert [op.api_configuration_id for op in operations] == ["a_pda_DEV", "b_pda_DEV", "wf"]


def test_the_same_operation_written_with_and_without_suffix_is_tracked_once() -> None:
    with_suffix = {**JOBS[0], "configuration_id": "a_pda_DEV"}
    assert len(parse_jobs([JOBS[0], with_suffix])) == 1


@pytest.mark.parametrize(
    ("jobs", "problem"),
    [
        ([], "at least one"),
        ("not json", "not a JSON list"),
        ([{"account": "000099"}], "entry 0 has no environment"),
        ([{**JOBS[0], "account": 99}], "account must be a quoted string"),
        (["x"], "entry 0 is not a table"),
    ],
)
def test_a_bad_jobs_setting_says_what_is_wrong(jobs: object, problem: str) -> None:
    with pytest.raises(SourceConfigError, match=problem):
        parse_jobs(jobs)


def test_a_source_logs_once_which_ids_it_suffixed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="dlt"):
        tailer_source(jobs=JOBS, jwt="a-test-jwt-value", base_url="http://127.0.0.1:9")
    lines = [r.getMessage() for r in caplog.records if "suffix" in r.getMessage()]
    assert len(lines) == 1
    assert "a_pda -> a_pda_DEV" in lines[0]
    assert "b_pda_DEV ->" not in lines[0]
    assert "wf" not in lines[0]


@pytest.mark.parametrize(
    ("setting", "value"), [("limit", 1001), ("limit", 0), ("initial_lookback_days", -1)]
)
def test_limit_above_1000_and_a_negative_lookback_are_refused(setting: str, value: int) -> None:
    with pytest.raises(SourceConfigError, match=setting):
        tailer_source(jobs=JOBS, jwt="a-test-jwt-value", **{setting: value})  # type: ignore[arg-type]
