"""Whole loads of the Snowplow source against its sandbox: tables must equal the sandbox's truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum
import pytest
import time_machine
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import summarize
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.client import SnowplowClient
from jobpulse.sources.snowplow.sandbox import DEFAULT_JOBS, SnowplowSandbox
from tests.conftest import FIXED_NOW
from tests.snowplow.helpers import (
    first_listed,
    load_snowplow,
    query,
    stored_runs,
    stored_steps,
    table_exists,
    truth_runs,
    truth_steps,
)

SIX_HOURS = 6 * 3600


def _steps_requested(sandbox: SnowplowSandbox, since: int) -> list[str]:
    return [r.path for r in sandbox.requests[since:] if r.path.endswith("/steps")]


@pytest.mark.parametrize("overlap_minutes", [0, 60])
def test_load_advance_load_equals_sandbox_truth(
    snowplow_sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    overlap_minutes: int,
) -> None:
    pipeline = make_pipeline()
    since = first_listed(pendulum.now("UTC"))
    load_snowplow(pipeline, snowplow_sandbox, overlap_minutes=overlap_minutes)
    running_at_first_load = {run for run, state in stored_runs(pipeline) if state == "RUNNING"}
    assert running_at_first_load, "the fixed instant must catch a run in progress"
    assert stored_runs(pipeline) == truth_runs(snowplow_sandbox, since)

    clock.shift(SIX_HOURS)
    load_snowplow(pipeline, snowplow_sandbox, overlap_minutes=overlap_minutes)

    runs = stored_runs(pipeline)
    assert runs == truth_runs(snowplow_sandbox, since)
    assert not {run for run, state in runs if state == "RUNNING"} & running_at_first_load
    (duplicates,) = query(
        pipeline, "select count(*) - count(distinct run_id) from snowplow_job_runs"
    )
    assert duplicates == (0,)
    run_ids = {run for run, _ in runs}
    assert stored_steps(pipeline) == truth_steps(snowplow_sandbox, run_ids)


def test_step_logs_only_for_failed_steps_by_default(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    failed = set(
        query(pipeline, "select run_id, step_name from snowplow_job_steps where state = 'FAILED'")
    )
    logged = set(query(pipeline, "select run_id, step_name from snowplow_step_logs"))
    assert failed
    assert logged == failed
    (with_errors,) = query(pipeline, "select count(*) from snowplow_step_logs where stderr <> ''")
    assert with_errors == (len(failed),)


def test_step_logs_capped_to_their_tail_and_flagged(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox, log_max_bytes=1000)
    rows = query(
        pipeline,
        "select run_id, step_name, stderr, stderr_truncated, stderr_bytes from snowplow_step_logs",
    )
    long_logs = [row for row in rows if row[4] > 1000]
    assert long_logs
    for run_id, step_name, stderr, truncated, _ in long_logs:
        assert truncated is True
        assert len(stderr.encode()) <= 1000
        assert stderr.rstrip("\n").endswith(_last_line(snowplow_sandbox, run_id, step_name))


def _last_line(sandbox: SnowplowSandbox, run_id: str, step_name: str) -> str:
    settings = sandbox.source_settings()
    client = SnowplowClient(settings["base_url"], settings["organization_id"], settings["api_key"])
    detail = client.get_step(run_id, step_name)
    return str(detail["stderr"]).rstrip("\n").splitlines()[-1]


@pytest.mark.parametrize(("mode", "expect_logs"), [("none", False), ("all", True)])
def test_step_logs_mode(
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    mode: str,
    expect_logs: bool,
) -> None:
    pipeline = make_pipeline()
    with SnowplowSandbox(jobs=DEFAULT_JOBS[2:3]) as sandbox:  # one job keeps "all" quick
        load_snowplow(pipeline, sandbox, step_logs=mode)
    assert table_exists(pipeline, "snowplow_step_logs") is expect_logs
    if expect_logs:
        (finished,) = query(
            pipeline,
            "select count(*) from snowplow_job_steps where state not in ('RUNNING', 'WAITING')",
        )
        (logged,) = query(pipeline, "select count(*) from snowplow_step_logs")
        assert logged == finished


def test_load_with_nothing_new_fetches_steps_only_of_runs_in_progress(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    in_progress = {run for run, state in stored_runs(pipeline) if state == "RUNNING"}
    before = len(snowplow_sandbox.requests)

    load_snowplow(pipeline, snowplow_sandbox)

    fetched = {
        path.split("/runs/")[1].split("/")[0] for path in _steps_requested(snowplow_sandbox, before)
    }
    assert fetched == in_progress
    assert not [r for r in snowplow_sandbox.requests[before:] if "/steps/" in r.path]


def test_second_load_with_nothing_new_fetches_no_steps(
    clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    # The six-hourly job (runs at :45) is idle at FIXED_NOW: every run is terminal. A day of
    # overlap makes the second load list four of them again; none needs its steps again.
    with SnowplowSandbox(jobs=DEFAULT_JOBS[2:3]) as sandbox:
        pipeline = make_pipeline()
        load_snowplow(pipeline, sandbox, overlap_minutes=24 * 60)
        assert all(state != "RUNNING" for _, state in stored_runs(pipeline))
        before = len(sandbox.requests)
        load_snowplow(pipeline, sandbox, overlap_minutes=24 * 60)
        paths = [r.path for r in sandbox.requests[before:]]
        assert [path for path in paths if path.endswith("/jobs/v1/runs")], "it lists the window"
        assert not [path for path in paths if "/runs/" in path], "and fetches nothing else"
        assert summarize("snowplow", pipeline).run_changes == {"unchanged_runs": 4}


def test_rerun_of_a_load_leaves_the_same_rows(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    counts = [
        query(pipeline, f"select count(*) from {t}")
        for t in ("snowplow_job_runs", "snowplow_job_steps")
    ]
    load_snowplow(pipeline, snowplow_sandbox)
    assert counts == [
        query(pipeline, f"select count(*) from {t}")
        for t in ("snowplow_job_runs", "snowplow_job_steps")
    ]


def test_load_after_a_week_away_records_a_gap_and_loads_what_exists(
    snowplow_sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    first_load_at = pendulum.now("UTC").replace(microsecond=0)
    load_snowplow(pipeline, snowplow_sandbox)
    first_load_done = pendulum.now("UTC")
    running_at_first_load = {run for run, state in stored_runs(pipeline) if state == "RUNNING"}
    clock.shift(8 * 24 * 3600)
    second_load_at = pendulum.now("UTC").replace(microsecond=0)

    load_snowplow(pipeline, snowplow_sandbox)
    second_load_done = pendulum.now("UTC")

    gaps = query(pipeline, "select source, gap_from, gap_to, reason from load_gaps")
    retention_gaps = [gap for gap in gaps if "retention" in gap[3]]
    assert len(retention_gaps) == 1
    source, gap_from, gap_to, _ = retention_gaps[0]
    assert source == "snowplow"
    # The gap runs from where the first load listed to, to where the second could start listing:
    # instants each load took while it ran (bracketed, as a busy machine makes loads slow).
    assert first_load_at <= pendulum.instance(gap_from) <= first_load_done
    assert first_listed(second_load_at) <= pendulum.instance(gap_to)
    assert pendulum.instance(gap_to) <= first_listed(second_load_done)
    # Runs in progress at the first load are gone too: each is recorded, none silently dropped.
    vanished = {gap[3].split()[1] for gap in gaps if "gone from the API" in gap[3]}
    assert vanished == running_at_first_load
    assert truth_runs(snowplow_sandbox, first_listed(second_load_at)) <= stored_runs(pipeline)


def test_transient_faults_are_retried(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    snowplow_sandbox.inject("*/jobs/v1/runs*", Fault.status_code(503), times=2)
    snowplow_sandbox.inject(
        "*/steps*", Fault.status_code(429, headers={"Retry-After": "0"}), times=3
    )
    pipeline = make_pipeline()
    since = first_listed(pendulum.now("UTC"))
    load_snowplow(pipeline, snowplow_sandbox)
    assert stored_runs(pipeline) == truth_runs(snowplow_sandbox, since)


def test_expired_token_is_reminted_once(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    snowplow_sandbox.expire_tokens()
    before = len(snowplow_sandbox.requests)
    load_snowplow(pipeline, snowplow_sandbox)
    token_requests = [r for r in snowplow_sandbox.requests[before:] if r.path.endswith("/token")]
    assert len(token_requests) == 1


def test_failed_load_keeps_state_and_the_next_load_recovers_everything(
    snowplow_sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    since = first_listed(pendulum.now("UTC"))
    load_snowplow(pipeline, snowplow_sandbox)
    runs_before = stored_runs(pipeline)
    state_before = pipeline.state["sources"]["snowplow"]["resources"]["snowplow_run_updates"]
    clock.shift(SIX_HOURS)
    snowplow_sandbox.inject(
        "*/steps*", Fault.status_code(500, body='{"message": "boom"}'), times=None
    )

    with pytest.raises(PipelineStepFailed) as failure:
        load_snowplow(pipeline, snowplow_sandbox)
    message = str(failure.value)
    assert "Snowplow API GET /api/msc/v1/organizations/" in message
    assert "HTTP 500" in message
    assert stored_runs(pipeline) == runs_before
    reloaded = pipeline.state["sources"]["snowplow"]["resources"]["snowplow_run_updates"]
    assert reloaded == state_before

    snowplow_sandbox.clear_faults()
    load_snowplow(pipeline, snowplow_sandbox)
    assert stored_runs(pipeline) == truth_runs(snowplow_sandbox, since)


def test_windows_reaching_the_cap_are_split_and_lose_no_run(
    clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    with SnowplowSandbox(runs_cap=40) as sandbox:
        pipeline = make_pipeline()
        since = first_listed(pendulum.now("UTC"))
        load_snowplow(pipeline, sandbox, runs_cap=40, window_hours=96, step_logs="none")
        listings = [r for r in sandbox.requests if r.path.endswith("/jobs/v1/runs")]
        assert len(listings) > 3  # 96 h windows had to be halved
        assert stored_runs(pipeline) == truth_runs(sandbox, since)


@pytest.mark.parametrize("wrap_lists", [False, True])
def test_v2_token_flow_and_wrapped_lists_load_the_same(
    clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline], wrap_lists: bool
) -> None:
    with SnowplowSandbox(wrap_lists=wrap_lists) as sandbox:
        pipeline = make_pipeline()
        since = first_listed(pendulum.now("UTC"))
        load_snowplow(pipeline, sandbox, api_key_id=None)
        token_paths = [r.path for r in sandbox.requests if r.path.endswith("/token")]
        assert token_paths[0].endswith("/v2/token")
        assert stored_runs(pipeline) == truth_runs(sandbox, since)


def test_a_run_whose_steps_are_missing_is_skipped_not_failing_the_load(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    snowplow_sandbox.inject("*/steps*", Fault.status_code(404), times=1)
    pipeline = make_pipeline()
    since = first_listed(pendulum.now("UTC"))
    load_snowplow(pipeline, snowplow_sandbox)
    assert stored_runs(pipeline) == truth_runs(snowplow_sandbox, since)
    (without_steps,) = query(
        pipeline,
        "select count(*) from snowplow_job_runs r where not exists "
        "(select 1 from snowplow_job_steps s where s.run_id = r.run_id)",
    )
    assert without_steps == (1,)


def test_both_payload_shapes_load_the_same_runs_with_end_times_derived_from_durations(
    make_pipeline: Callable[..., Pipeline],
) -> None:
    columns = "run_id, state, started_at, ended_at, duration_seconds, failure_reason"
    loaded = {}
    with time_machine.travel(FIXED_NOW, tick=False):  # both shapes see the same instant
        for end_times in (False, True):
            with SnowplowSandbox(end_times=end_times) as sandbox:
                pipeline = make_pipeline(f"shape_{end_times}")
                load_snowplow(pipeline, sandbox, step_logs="none")
                loaded[end_times] = query(pipeline, f"select {columns} from snowplow_job_runs")
    assert sorted(loaded[False]) == sorted(loaded[True])
    by_state: dict[str, list[tuple[Any, ...]]] = {}
    for row in loaded[False]:
        by_state.setdefault(row[1], []).append(row)
    assert {"SUCCEEDED", "FAILED", "RUNNING", "SKIPPED"} <= set(by_state)
    for state, rows in by_state.items():
        for _, _, started, ended, duration, reason in rows:
            if state in ("RUNNING", "WAITING"):
                assert ended is None
            else:
                assert pendulum.instance(ended) == pendulum.instance(started).add(seconds=duration)
            assert (reason is not None) == (state == "FAILED")


def test_every_row_carries_the_organization_id(
    snowplow_sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    for table in ("snowplow_job_runs", "snowplow_job_steps", "snowplow_step_logs"):
        assert query(pipeline, f"select distinct organization_id from {table}") == [
            (snowplow_sandbox.organization_id,)
        ], table


def test_load_gaps_has_only_its_own_columns(
    snowplow_sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, snowplow_sandbox)
    clock.shift(8 * 24 * 3600)
    load_snowplow(pipeline, snowplow_sandbox)
    columns = pipeline.default_schema.get_table_columns("load_gaps")
    assert sorted(c for c in columns if not c.startswith("_dlt")) == [
        "detected_at",
        "gap_from",
        "gap_to",
        "reason",
        "source",
    ]
