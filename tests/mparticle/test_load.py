"""Whole loads of the mParticle source against its sandbox, on both spellings: the tables must
equal what the sandbox holds, runs must finish, snapshots accumulate, deleted pipelines marked."""

from __future__ import annotations

from collections.abc import Callable

import pendulum
import pytest
import time_machine
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.mparticle.sandbox import MparticleSandbox, PipelineSpec
from jobpulse.sources.shared.sandbox import Fault
from tests.mparticle.helpers import (
    RUNS_PATH_PART,
    load_mparticle,
    query,
    stored_runs,
    truth_runs,
)

TWO_HOURS = 2 * 3600
TERMINAL = ("success", "failed")
RETIRED = "retired-pipeline"
HEALING = "example-pipeline-2"


def _open_runs(pipeline: Pipeline) -> set[int]:
    return {run for run, _, state in stored_runs(pipeline) if state not in TERMINAL}


def _columns(pipeline: Pipeline, table: str) -> set[str]:
    return set(pipeline.default_schema.get_table_columns(table))


def test_load_advance_load_equals_the_sandbox_on_both_spellings(
    any_sandbox: MparticleSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    load_mparticle(pipeline, any_sandbox, page_size=5)
    open_at_first_load = _open_runs(pipeline)
    assert open_at_first_load, "the fixed instant must catch runs in progress"
    assert stored_runs(pipeline) == truth_runs(any_sandbox)
    retired_runs = {run for run in stored_runs(pipeline) if run[1] == RETIRED}
    assert retired_runs, "the pipeline deleted later must have runs before"

    clock.shift(TWO_HOURS)
    load_mparticle(pipeline, any_sandbox, page_size=5)

    assert stored_runs(pipeline) - retired_runs == truth_runs(any_sandbox)
    assert not _open_runs(pipeline) & open_at_first_load, "a run stayed stuck in progress"
    (duplicates,) = query(
        pipeline,
        "select count(*) - count(distinct pipeline_run_id) from mparticle_pipeline_runs",
    )
    assert duplicates == (0,)
    _assert_snapshots_recorded_the_fault_and_its_healing(pipeline)
    _assert_the_retired_pipeline_is_marked_deleted_once(pipeline, any_sandbox, clock)


def _assert_snapshots_recorded_the_fault_and_its_healing(pipeline: Pipeline) -> None:
    snapshots = query(
        pipeline,
        "select observed_at, is_faulted, is_connection_faulted, faulted_reason "
        f"from mparticle_pipeline_status where pipeline_id = '{HEALING}' order by observed_at",
    )
    (first, second) = snapshots
    assert first[1:3] == (True, True)
    assert first[3]
    assert second[1:] == (False, False, None)
    assert second[0] - first[0] >= pendulum.duration(hours=2)
    (counts,) = query(pipeline, "select count(*), count(distinct observed_at) from "
                      "mparticle_pipeline_status")  # fmt: skip
    assert counts == (5 + 4, 2)  # the retired pipeline is not listed the second time


def _assert_the_retired_pipeline_is_marked_deleted_once(
    pipeline: Pipeline, sandbox: MparticleSandbox, clock: time_machine.Traveller
) -> None:
    (second_load,) = query(pipeline, "select max(observed_at) from mparticle_pipeline_status")
    clock.shift(TWO_HOURS)
    load_mparticle(pipeline, sandbox)

    rows = dict(query(pipeline, "select id, is_deleted from mparticle_pipelines order by id"))
    assert rows == {spec.id: spec.id == RETIRED for spec in sandbox.pipelines}
    (retired,) = query(
        pipeline,
        f"select deleted_seen_at, name, schedule_interval from mparticle_pipelines "
        f"where id = '{RETIRED}'",
    )
    assert retired == (second_load[0], "Retired Pipeline", "daily")
    (live,) = query(pipeline, "select count(deleted_seen_at) from mparticle_pipelines "
                    f"where id <> '{RETIRED}'")  # fmt: skip
    assert live == (0,)


def test_v2_spellings_land_in_the_v1_columns_and_credentials_nowhere(
    any_sandbox: MparticleSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_mparticle(pipeline, any_sandbox)

    connections = query(pipeline, "select type, is_faulted from mparticle_connections")
    assert {row[0].lower() for row in connections} == {"snowflake"}
    assert {row[1] for row in connections} == {False}
    faulted = query(pipeline, f"select is_faulted from mparticle_pipelines where id = '{HEALING}'")
    assert faulted == [(True,)]
    for table in ("mparticle_connections", "mparticle_pipelines", "mparticle_data_models"):
        assert not {c for c in _columns(pipeline, table) if "password" in c or "_key" in c}


def test_runs_store_the_pipeline_id_numbers_and_utc_times(
    sandbox: MparticleSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    assert sandbox.string_counts, "the sandbox must send counts as strings"
    pipeline = make_pipeline()
    load_mparticle(pipeline, sandbox)

    assert "id" not in _columns(pipeline, "mparticle_pipeline_runs")
    schema = pipeline.default_schema.get_table_columns("mparticle_pipeline_runs")
    assert schema["records_extracted"]["data_type"] == "bigint"
    assert schema["created_on"]["data_type"] == "timestamp"
    (bad,) = query(
        pipeline,
        "select count(*) from mparticle_pipeline_runs where pipeline_run_state = 'success' "
        "and (records_extracted is null or ended_at is null or duration_seconds <= 0 "
        "or ended_at <> end_date)",
    )
    assert bad == (0,)
    (open_with_end,) = query(
        pipeline,
        "select count(*) from mparticle_pipeline_runs "
        "where pipeline_run_state not in ('success', 'failed') and ended_at is not null",
    )
    assert open_with_end == (0,)


def test_a_reload_never_fetches_a_terminal_run_by_id(
    clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    # Runs longer than the interval: a run is still going when the next one is listed, so with
    # no look-back the next load's listing starts after it and it is fetched by id.
    slow = PipelineSpec("slow-pipeline", "Slow", "hourly", run_minutes=(100.0, 110.0))
    with MparticleSandbox(pipelines=(slow,)) as sandbox:
        pipeline = make_pipeline()
        by_id_requests: list[str] = []
        terminal: set[int] = set()
        for _ in range(4):
            since = len(sandbox.requests)
            load_mparticle(pipeline, sandbox, lookback_hours=0)
            fetched = [
                r.path.rsplit("/", 1)[1]
                for r in sandbox.requests[since:]
                if r.path.rsplit("/", 2)[-2] == "runs"
            ]
            assert not {int(run) for run in fetched} & terminal
            by_id_requests += fetched
            assert stored_runs(pipeline) == truth_runs(sandbox)
            terminal = {run for run, _, state in stored_runs(pipeline) if state in TERMINAL}
            clock.shift(1800)
        assert by_id_requests, "the test must exercise fetching runs by id"


def test_a_no_change_reload_requests_each_listing_once(
    sandbox: MparticleSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_mparticle(pipeline, sandbox)
    since = len(sandbox.requests)
    load_mparticle(pipeline, sandbox)

    paths = [r.path for r in sandbox.requests[since:] if r.status == 200]
    listed = len(sandbox.listed_pipelines())
    assert sum(p.endswith("/status") for p in paths) == listed
    assert sum(p.endswith(RUNS_PATH_PART) for p in paths) == listed
    assert not [r for r in sandbox.requests[since:] if r.path.endswith("/oauth/token")]


def test_429_with_retry_after_is_waited_out(
    sandbox: MparticleSandbox, make_pipeline: Callable[..., Pipeline], waits: list[float]
) -> None:
    limited = Fault.status_code(429, headers={"Retry-After": "2", "X-mp-rate-limit-exceeded": "1"})
    sandbox.inject("*/pipelines", limited, times=2)
    pipeline = make_pipeline()

    load_mparticle(pipeline, sandbox)

    assert waits[:2] == [2, 2]
    assert stored_runs(pipeline) == truth_runs(sandbox)


def test_a_505_fails_the_load_naming_the_pipeline_and_keeps_the_state(
    sandbox: MparticleSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
) -> None:
    pipeline = make_pipeline()
    load_mparticle(pipeline, sandbox)
    state_before = pipeline.state["sources"]
    clock.shift(TWO_HOURS)
    sandbox.inject("*/example-pipeline/status/runs", Fault.status_code(505), times=None)

    with pytest.raises(PipelineStepFailed) as failed:
        load_mparticle(pipeline, sandbox)

    assert "pipeline 'example-pipeline': mParticle could not connect to the warehouse" in str(
        failed.value
    )
    assert pipeline.state["sources"] == state_before
    sandbox.clear_faults()
    load_mparticle(pipeline, sandbox)
    assert stored_runs(pipeline) - {r for r in stored_runs(pipeline) if r[1] == RETIRED} == (
        truth_runs(sandbox)
    )
