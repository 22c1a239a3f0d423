"""Whole loads of the Tailer source against its sandbox: the table must match the sandbox."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pendulum
import pytest
import time_machine
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.tailer import history
from jobpulse.sources.tailer.sandbox import TailerSandbox, user_job
from tests.tailer.helpers import (
    LIMIT,
    SMALL_OPERATIONS,
    STORAGE_TO_STORAGE,
    TABLE_TO_TABLE,
    WORKFLOW,
    actions,
    first_load_floor,
    load_tailer,
    query,
    stored_runs,
    truth_runs,
)

ALL_HISTORY = pendulum.datetime(2000, 1, 1)


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[TailerSandbox]:
    with TailerSandbox(operations=SMALL_OPERATIONS) as started:
        yield started


def _assert_matches_sandbox(
    pipeline: Pipeline, sandbox: TailerSandbox, since: pendulum.DateTime
) -> None:
    """Every run since `since` stored once, each with the sandbox's current status."""
    stored = stored_runs(pipeline)
    assert truth_runs(sandbox, since) <= stored, "no run lost"
    assert stored <= truth_runs(sandbox, ALL_HISTORY), "none stale (e.g. stuck RUNNING)"
    (duplicates,) = query(
        pipeline, "select count(*) - count(distinct (job_id, run_id)) from tailer_runs"
    )
    assert duplicates == (0,)


def test_first_load_pages_back_day_by_day_to_the_lookback(
    sandbox: TailerSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    floor = first_load_floor(pendulum.now("UTC"))

    load_tailer(pipeline, sandbox)

    _assert_matches_sandbox(pipeline, sandbox, floor)
    days = [
        body["execution_date"]
        for body in actions(sandbox)
        if body["configuration_type"] == "table-to-table" and "execution_date" in body
    ]
    today = pendulum.now("UTC").date()
    assert days == [today.subtract(days=n).isoformat() for n in range(4)]


def test_a_burst_larger_than_limit_over_several_days_is_captured_whole(
    sandbox: TailerSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    floor = first_load_floor(pendulum.now("UTC"))
    load_tailer(pipeline, sandbox)
    before = stored_runs(pipeline)
    clock.shift(3 * 86400 + 5 * 3600)
    since = len(sandbox.requests)

    load_tailer(pipeline, sandbox)

    _assert_matches_sandbox(pipeline, sandbox, floor)
    new_t2t = [run for run in stored_runs(pipeline) - before if run[0] == TABLE_TO_TABLE.job_id]
    assert len(new_t2t) > 3 * LIMIT, "the burst must be larger than one answer"
    paged = {body.get("execution_date") for body in actions(sandbox, since)}
    assert len(paged - {None}) >= 4, "it paged back over several days"


def test_identical_start_times_are_both_stored(
    sandbox: TailerSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_tailer(pipeline, sandbox)
    per_start = query(
        pipeline,
        "select count(*) from tailer_runs where job_id = "
        f"'{STORAGE_TO_STORAGE.job_id}' group by started_at",
    )
    assert per_start
    assert {count for (count,) in per_start} == {2}


def test_a_running_run_is_checked_with_its_own_job_id_until_terminal(
    sandbox: TailerSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    load_tailer(pipeline, sandbox)
    ((job_id, run_id, ended_at),) = query(
        pipeline, "select job_id, run_id, ended_at from tailer_runs where status = 'RUNNING'"
    )
    assert job_id == WORKFLOW.job_id
    assert ended_at is None

    clock.shift(2 * 86400)
    since = len(sandbox.requests)
    load_tailer(pipeline, sandbox)

    checks = [body for body in actions(sandbox, since) if body["action"] == "check_run_status"]
    assert [(body["job_id"], body["run_id"]) for body in checks] == [(job_id, run_id)]
    assert checks[0]["configuration_type"] == "workflow"
    ((status, started, ended, seconds, listed_type),) = query(
        pipeline,
        "select status, started_at, ended_at, duration_seconds, configuration_type "
        f"from tailer_runs where run_id = '{run_id}'",
    )
    assert status in {"SUCCESS", "FAILED", "Checked", "No match"}
    assert seconds > 86400
    assert ended == started + pendulum.duration(seconds=seconds)
    assert listed_type == "workflow"

    since = len(sandbox.requests)
    load_tailer(pipeline, sandbox)
    rechecked = {body["run_id"] for body in actions(sandbox, since) if "run_id" in body}
    assert run_id not in rechecked, "a terminal run is not checked again"


def test_a_reload_with_nothing_new_makes_only_the_minimal_requests_and_changes_nothing(
    sandbox: TailerSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_tailer(pipeline, sandbox)
    # A running run's last_update_date moves on; every finished run must stay exactly as it was.
    table = (
        "select * exclude (_dlt_load_id, _dlt_id) from tailer_runs "
        "where is_terminal order by job_id, run_id"
    )
    rows = query(pipeline, table)
    running = query(pipeline, "select count(*) from tailer_runs where not is_terminal")[0][0]
    assert running >= 1
    since = len(sandbox.requests)

    load_tailer(pipeline, sandbox)

    sent = Counter(
        (body["action"], body["configuration_id"], body.get("execution_date"))
        for body in actions(sandbox, since)
    )
    expected = Counter(
        {("get_last_status", spec.configuration_id, None): 1 for spec in SMALL_OPERATIONS}
    )
    expected[("check_run_status", WORKFLOW.configuration_id, None)] = running
    assert sent == expected
    assert query(pipeline, table) == rows
    assert query(pipeline, "select count(*) from tailer_runs where not is_terminal") == [(running,)]
    (count,) = query(
        pipeline, "select count(*) - count(distinct (job_id, run_id)) from tailer_runs"
    )
    assert count == (0,)


def test_loads_only_read_and_never_ask_for_more_than_1000(
    sandbox: TailerSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    load_tailer(pipeline, sandbox, limit=1000)
    clock.shift(86400)
    load_tailer(pipeline, sandbox, limit=1000)

    bodies = actions(sandbox)
    assert {body["action"] for body in bodies} == {"get_last_status", "check_run_status"}
    assert {r.path for r in sandbox.requests} == {"/v1/dag/status"}
    assert max(body.get("limit", 0) for body in bodies) == 1000


def test_table_to_table_ids_are_sent_with_the_suffix_once_and_it_is_logged_once(
    sandbox: TailerSandbox,
    make_pipeline: Callable[..., Pipeline],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="dlt"):
        load_tailer(make_pipeline(), sandbox)
    ids = {
        body["configuration_id"]
        for body in actions(sandbox)
        if body["configuration_type"] == "table-to-table"
    }
    assert ids == {"000099_iowa_liquor_prepare_pda_DEV"}
    notes = [r.getMessage() for r in caplog.records if "environment suffix" in r.getMessage()]
    assert len(notes) == 1


def test_an_unknown_operation_is_a_warning_and_the_others_still_load(
    sandbox: TailerSandbox,
    make_pipeline: Callable[..., Pipeline],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = sandbox.source_settings()
    unknown = {
        "account": "000099",
        "environment": "DEV",
        "configuration_type": "table-to-table",
        "configuration_id": "000099_no_such_job",
    }
    jobs = [*json.loads(settings["jobs"]), unknown]
    pipeline = make_pipeline()
    with caplog.at_level(logging.WARNING, logger="dlt"):
        load_tailer(pipeline, sandbox, jobs=jobs)

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("000099_no_such_job_DEV" in message for message in warnings)
    loaded = {job_id for (job_id,) in query(pipeline, "select distinct job_id from tailer_runs")}
    assert loaded == {spec.job_id for spec in SMALL_OPERATIONS}


def test_cli_load_source_tailer(
    sandbox: TailerSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in SOURCES["tailer"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SOURCES__TAILER__LIMIT", str(LIMIT))

    assert main(["load", "--source", "tailer", "--quiet", "--no-models"]) == 0

    out = capsys.readouterr().out
    assert "tailer: loaded" in out
    assert "tailer_runs" in out


def test_settings_from_dlt_toml_files_with_jobs_as_an_array_of_tables(
    sandbox: TailerSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = "".join(
        "\n[[sources.tailer.jobs]]\n"
        + "".join(f'{key} = "{value}"\n' for key, value in user_job(spec).items())
        for spec in SMALL_OPERATIONS
    )
    (tmp_path / ".dlt").mkdir()
    config = f'[sources.tailer]\nbase_url = "{sandbox.base_url}"\n{jobs}'
    (tmp_path / ".dlt" / "config.toml").write_text(config)
    (tmp_path / ".dlt" / "secrets.toml").write_text(f'[sources.tailer]\njwt = "{sandbox.jwt}"\n')
    Container()[PluggableRunContext].reload_providers()  # as a new process would

    assert main(["check", "--source", "tailer"]) == 0

    assert "3 of 3 operations have runs" in capsys.readouterr().out
    sent = {body["configuration_id"] for body in actions(sandbox)}
    assert sent == {spec.configuration_id for spec in SMALL_OPERATIONS}


def test_a_day_with_more_runs_than_one_answer_holds_is_recorded_as_a_gap(
    sandbox: TailerSandbox,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history, "MAX_LIMIT", 10)  # the table-to-table job runs 12 times a day
    pipeline = make_pipeline()

    load_tailer(pipeline, sandbox, initial_lookback_days=1)

    yesterday = pendulum.now("UTC").subtract(days=1).start_of("day")
    gaps = query(pipeline, "select source, gap_from, gap_to, reason from load_gaps")
    assert [(source, gap_from, gap_to) for source, gap_from, gap_to, _ in gaps] == [
        ("tailer", yesterday, yesterday.add(days=1))
    ]
    assert "more than 10 runs of table-to-table 000099_iowa_liquor_prepare_pda_DEV" in gaps[0][3]
    gap_columns = pipeline.default_schema.get_table_columns("load_gaps")
    assert not gap_columns.keys() & {"run_id", "job_id"}, "load_gaps has only its own columns"
