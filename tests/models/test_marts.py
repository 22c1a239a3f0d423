"""The marts on a hand-built history of all four vendors, built once on DuckDB (through the
`jobpulse models` command) and once on PostgreSQL; expected values worked out by hand from
tests/models/histories.py with as_of = 2026-03-20 12:00 UTC."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from typing import Any

import dlt
import pytest

from jobpulse.pipelines import cli
from jobpulse.pipelines.models import jobs_needing_attention, models_pipeline, run_models
from tests.models.conftest import Built, isolated
from tests.models.histories import (
    AS_OF,
    AS_OF_TEXT,
    RUN_TABLES,
    SPEC_L1,
    SPEC_L2,
    TAILER_E,
    TAILER_F,
    all_vendors,
    at,
    load_raw,
    normalised,
    query,
)

MARTS = (
    "fct_job_runs",
    "fct_job_steps",
    "dim_jobs",
    "job_reliability_daily",
    "job_health",
    "job_duration_regressions",
    "step_bottlenecks",
    "mparticle_pipeline_run_records",
    "alation_job_results",
    "snowplow_event_spec_changes",
    "snowplow_event_spec_open_issues",
)

# The staging views whose rows are checked here (the others feed the marts checked above).
STAGED = (
    "stg_snowplow__step_logs",
    "stg_mparticle__connections",
    "stg_mparticle__data_models",
    "stg_mparticle__pipeline_status",
    "stg_jobpulse__load_gaps",
)


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`jobpulse models --as-of … --test` with VIRTUAL_ENV unset, on a DuckDB file."""
    root = tmp_path_factory.mktemp("duckdb_models")
    database = root / "jobpulse.duckdb"
    with isolated(root) as patch:
        raw = load_raw(
            all_vendors(), dlt.destinations.duckdb(str(database)), "jobpulse_raw", str(root / "p")
        )
        patch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(database))
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exit_code = cli.main(["models", "--as-of", AS_OF_TEXT, "--test"])
    return Built(raw, "jobpulse_marts", exit_code, output.getvalue())


@pytest.fixture(scope="module")
def on_postgres(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> Built:
    """The same history on a real PostgreSQL server, raw dataset `models_test_raw`."""
    root = tmp_path_factory.mktemp("postgres_models")
    destination = dlt.destinations.postgres(postgres_dsn)
    with isolated(root):
        raw = load_raw(all_vendors(), destination, "models_test_raw", str(root / "p"))
        pipeline = models_pipeline(destination, "models_test_raw", str(root / "p"))
        summary = run_models(pipeline, as_of=AS_OF, test=True)
    return Built(raw, "models_test_marts", 0 if summary.ok else 1, summary.error or "")


def rows(built: Built, sql: str) -> list[dict[str, Any]]:
    with built.raw.sql_client() as client, client.execute_query(sql) as cursor:
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def utc(value: Any) -> Any:
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def test_models_command_builds_and_passes_every_dbt_test_without_virtual_env(
    on_duckdb: Built,
) -> None:
    assert on_duckdb.exit_code == 0, on_duckdb.output
    assert "models: 26 built, " in on_duckdb.output
    assert "tests passed" in on_duckdb.output


def test_models_build_and_dbt_tests_pass_on_postgres(on_postgres: Built) -> None:
    assert on_postgres.exit_code == 0, on_postgres.output


def test_staging_views_and_mart_tables_land_in_their_own_schemas(on_duckdb: Built) -> None:
    found = rows(
        on_duckdb,
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema like 'jobpulse_%' and table_name in ('stg_tailer__runs', 'job_health')",
    )
    assert sorted((r["table_schema"], r["table_name"], r["table_type"]) for r in found) == [
        ("jobpulse_marts", "job_health", "BASE TABLE"),
        ("jobpulse_staging", "stg_tailer__runs", "VIEW"),
    ]


def test_fct_job_runs_row_count_equals_the_sum_of_the_raw_run_tables(on_duckdb: Built) -> None:
    raw = sum(
        query(on_duckdb.raw, f"select count(*) from jobpulse_raw.{t}")[0][0] for t in RUN_TABLES
    )
    (facts,) = query(on_duckdb.raw, "select count(*) from jobpulse_marts.fct_job_runs")[0]
    assert facts == raw == 40


@pytest.mark.parametrize(
    ("run_key", "status", "status_raw", "is_terminal"),
    [
        ("snowplow:jc@prod:c1", "success", "SUCCEEDED_NO_OP", True),
        ("snowplow:jj@prod:j1", "success", "succeeded", True),
        ("snowplow:ja@prod:a4", "skipped", "SKIPPED", True),
        ("snowplow:ja@prod:a8", "running", "RUNNING", False),
        ("snowplow:jb@prod:b1", "failed", "FAILED", True),
        (f"tailer:{TAILER_F}:20260319-f1", "failed", "Checked", True),
        (f"tailer:{TAILER_F}:20260319-f2", "skipped", "No match", True),
        (f"tailer:{TAILER_F}:20260319-f3", "success", "Success", True),
        (f"tailer:{TAILER_E}:20260320-e1", "running", "RUNNING", False),
        ("alation:unknown:id:2", "running", "running", False),
        ("mparticle:pipe-1:252", "queued", "triggered", False),
        ("mparticle:pipe-1:250", "failed", "failed", True),
    ],
)
def test_statuses_are_normalised_ignoring_case_and_raw_kept(
    on_duckdb: Built, run_key: str, status: str, status_raw: str, is_terminal: bool
) -> None:
    (row,) = rows(
        on_duckdb,
        "select status, status_raw, is_terminal from jobpulse_marts.fct_job_runs "
        f"where run_key = '{run_key}'",
    )
    assert row == {"status": status, "status_raw": status_raw, "is_terminal": is_terminal}


@pytest.mark.parametrize(
    ("run_key", "job_name", "started_at", "ended_at", "records"),
    [
        # named Alation job: keyed by its name's job, started at the time in the name
        (
            "alation:MetadataExtraction#1:MetadataExtraction#1_2026-03-19-08-00-00-000000-00-00-4ea1dc02",
            "MetadataExtraction#1_2026-03-19-08-00-00-000000-00-00-4ea1dc02",
            at("03-19 08:00"),
            at("03-19 08:00:02"),
            1,
        ),
        # id-only query-log job: keyed by the kind its result shows, started at its finish
        ("alation:QueryLogIngestion:id:1", None, at("03-19 09:00:00.5"), at("03-19 09:00:00.5"), 3),
        # mParticle: the pipeline's name, records extracted
        (
            "mparticle:pipe-1:251",
            "Example Pipeline",
            at("03-19 17:15:48"),
            at("03-19 17:20:48"),
            1376,
        ),
    ],
)
def test_vendor_runs_get_their_job_key_name_and_times(
    on_duckdb: Built,
    run_key: str,
    job_name: str | None,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    records: int,
) -> None:
    (row,) = rows(
        on_duckdb,
        "select job_name, started_at, ended_at, records_processed "
        f"from jobpulse_marts.fct_job_runs where run_key = '{run_key}'",
    )
    assert (row["job_name"], utc(row["started_at"]), utc(row["ended_at"])) == (
        job_name,
        started_at,
        ended_at,
    )
    assert row["records_processed"] == records


HEALTH: dict[str, dict[str, Any]] = {
    # flaky: S F F (skip) S F S, then running; streak a2-a3 crosses midnight UTC
    "snowplow:ja@prod": {
        "job_name": "Job A renamed",  # the last run up to as_of, not a9 after it
        "last_status": "running",
        "last_run_started_at": at("03-20 11:00"),
        "last_success_at": at("03-19 06:10"),
        "consecutive_failures": 0,
        "runs_30d": 8,
        "success_rate_7d": 0.5,
        "success_rate_30d": 0.5,
        "p50_duration_seconds_30d": 600.0,
        "p95_duration_seconds_30d": 600.0,
        # (03-19 03:10 - 03-18 23:00) = 15000 s and (06:10 - 05:00) = 4200 s
        "mttr_seconds_30d": 9600.0,
        "flaky_flips_30d": 2,
        # gaps 3,2,1,1,2,1,29 h: median 2 h; 1 h since the last start
        "expected_interval_seconds": 7200.0,
        "is_overdue": False,
        "health_verdict": "flaky",
    },
    # only ever fails; b0 is older than 30 days but still in the streak
    "snowplow:jb@prod": {
        "last_status": "failed",
        "last_run_started_at": at("03-15 08:00"),
        "last_success_at": None,
        "consecutive_failures": 3,
        "runs_30d": 2,
        "success_rate_7d": 0.0,
        "success_rate_30d": 0.0,
        "p50_duration_seconds_30d": None,
        "mttr_seconds_30d": None,
        "flaky_flips_30d": 0,
        "expected_interval_seconds": None,
        "is_overdue": False,
        "health_verdict": "failing",
    },
    # last success c5 = 400 s against a median of 100
    "snowplow:jc@prod": {
        "last_status": "success",
        "last_success_at": at("03-20 11:06:40"),
        "consecutive_failures": 0,
        "runs_30d": 5,
        "success_rate_7d": 1.0,
        "p50_duration_seconds_30d": 100.0,
        "p95_duration_seconds_30d": pytest.approx(342.0),  # 110 + 0.8 * (400 - 110)
        "mttr_seconds_30d": None,
        "expected_interval_seconds": 3600.0,
        "is_overdue": False,  # 1 h since the last start, 2 h allowed
        "health_verdict": "slow",
    },
    # equal starts: d1 (failed) then d2 (success) by run_key
    "snowplow:jd@prod": {
        "last_status": "success",
        "last_success_at": at("03-20 09:01"),
        "consecutive_failures": 0,
        "runs_30d": 3,
        "success_rate_7d": 0.5,
        "success_rate_30d": pytest.approx(2 / 3),
        "mttr_seconds_30d": 60.0,
        "flaky_flips_30d": 1,
        "health_verdict": "healthy",
    },
    # 6 hourly runs, then 31 h of silence: overdue beats slow (j6 is a regression)
    "snowplow:jj@prod": {
        "p50_duration_seconds_30d": 101.0,
        "p95_duration_seconds_30d": pytest.approx(116.0),  # 104 + 0.75 * 16
        "expected_interval_seconds": 3600.0,
        "is_overdue": True,
        "health_verdict": "overdue",
    },
    "snowplow:jk@prod": {
        "p95_duration_seconds_30d": pytest.approx(92.5),
        "expected_interval_seconds": None,  # 4 runs: fewer than 5
        "health_verdict": "slow",
    },
    # no terminal run at all
    f"tailer:{TAILER_E}": {
        "source_system": "tailer",
        "job_name": "000099_cfg_e_DEV",
        "last_status": "running",
        "last_success_at": None,
        "consecutive_failures": 0,
        "runs_30d": 1,
        "success_rate_7d": None,
        "success_rate_30d": None,
        "mttr_seconds_30d": None,
        "flaky_flips_30d": 0,
        "is_overdue": False,
        "health_verdict": "healthy",
    },
    # Checked (failed), No match (skipped, ignored), Success: recovery 7240 s
    f"tailer:{TAILER_F}": {
        "last_status": "success",
        "consecutive_failures": 0,
        "success_rate_30d": 0.5,
        "mttr_seconds_30d": 7240.0,
        "flaky_flips_30d": 1,
        "p50_duration_seconds_30d": 40.0,
        "health_verdict": "healthy",
    },
    "alation:MetadataExtraction#1": {
        "source_system": "alation",
        "last_success_at": at("03-19 08:00:02"),
        "p50_duration_seconds_30d": 2.0,
        "health_verdict": "healthy",
    },
    "alation:QueryLogIngestion": {"job_name": None, "last_status": "success", "runs_30d": 1},
    # failed, success (recovery 86748 s), then queued
    "mparticle:pipe-1": {
        "job_name": "Example Pipeline",
        "last_status": "queued",
        "last_success_at": at("03-19 17:20:48"),
        "success_rate_7d": 0.5,
        "mttr_seconds_30d": 86748.0,
        "flaky_flips_30d": 1,
        "p95_duration_seconds_30d": 300.0,
        "health_verdict": "healthy",
    },
}


@pytest.mark.parametrize("job_key", list(HEALTH))
def test_job_health_follows_every_definition(on_duckdb: Built, job_key: str) -> None:
    (row,) = rows(on_duckdb, f"select * from jobpulse_marts.job_health where job_key = '{job_key}'")
    actual = {column: utc(row[column]) for column in HEALTH[job_key]}
    assert actual == HEALTH[job_key]


def test_job_health_has_one_row_per_job_started_by_as_of(on_duckdb: Built) -> None:
    keys = {r["job_key"] for r in rows(on_duckdb, "select job_key from jobpulse_marts.job_health")}
    # alation:unknown (running, never started as far as we know) has no row
    assert keys == set(HEALTH)


def test_dim_jobs_names_each_job_by_its_last_run_ever(on_duckdb: Built) -> None:
    found = rows(
        on_duckdb,
        "select job_key, job_name, runs from jobpulse_marts.dim_jobs "
        "where job_key in ('snowplow:ja@prod', 'alation:unknown')",
    )
    assert sorted((r["job_key"], r["job_name"], r["runs"]) for r in found) == [
        ("alation:unknown", None, 1),
        ("snowplow:ja@prod", "Job A v3", 9),
    ]


def test_daily_reliability_per_utc_day_with_runs(on_duckdb: Built) -> None:
    found = rows(
        on_duckdb,
        "select job_key, day, runs, successes, failures, success_rate, p50_duration_seconds, "
        "p95_duration_seconds, max_duration_seconds from jobpulse_marts.job_reliability_daily "
        "where job_key in ('snowplow:ja@prod', 'snowplow:jd@prod') order by job_key, day",
    )
    assert [tuple(r.values()) for r in found] == [
        ("snowplow:ja@prod", dt.date(2026, 3, 18), 2, 1, 1, 0.5, 600.0, 600.0, 600.0),
        ("snowplow:ja@prod", dt.date(2026, 3, 19), 5, 2, 2, 0.5, 600.0, 600.0, 600.0),
        ("snowplow:ja@prod", dt.date(2026, 3, 20), 1, 0, 0, None, None, None, None),
        ("snowplow:jd@prod", dt.date(2026, 3, 1), 1, 1, 0, 1.0, 60.0, 60.0, 60.0),
        ("snowplow:jd@prod", dt.date(2026, 3, 20), 2, 1, 1, 0.5, 60.0, 60.0, 60.0),
    ]


def test_duration_regressions_by_ratio_or_robust_z(on_duckdb: Built) -> None:
    found = rows(
        on_duckdb,
        "select run_key, duration_seconds, baseline_median_seconds, ratio_to_median, robust_z, "
        "baseline_runs from jobpulse_marts.job_duration_regressions order by run_key",
    )
    assert [tuple(r.values()) for r in found] == [
        # baseline 100,110,90,100: median 100, MAD 5
        ("snowplow:jc@prod:c5", 400.0, 100.0, 4.0, pytest.approx(300 / (1.4826 * 5)), 4),
        # baseline 100,104,96,102,98: median 100, MAD 2; ratio 1.2 only
        ("snowplow:jj@prod:j6", 120.0, 100.0, 1.2, pytest.approx(20 / (1.4826 * 2)), 5),
        # baseline 50,50,50: MAD 0, so no z-score
        ("snowplow:jk@prod:k4", 100.0, 50.0, 2.0, None, 3),
    ]


def test_step_bottlenecks_shares_of_failures_and_time(on_duckdb: Built) -> None:
    found = rows(
        on_duckdb,
        "select step_name, runs, failures, failure_rate, failure_share, p50_duration_seconds, "
        "p95_duration_seconds, total_duration_seconds, avg_share_of_run_time "
        "from jobpulse_marts.step_bottlenecks order by step_name",
    )
    assert [tuple(r.values()) for r in found] == [
        ("extract", 2, 0, 0.0, 0.0, 150.0, 195.0, 300.0, pytest.approx(1 / 3)),
        ("load", 2, 1, 0.5, 1.0, 400.0, 400.0, 600.0, pytest.approx(2 / 3)),
    ]


def test_vendor_marts_keep_alation_errors_and_mparticle_records(on_duckdb: Built) -> None:
    (alation,) = rows(
        on_duckdb,
        "select updated_objects, error_count, errors_loaded, first_error "
        "from jobpulse_marts.alation_job_results where job_key = 'alation:MetadataExtraction#1'",
    )
    assert alation == {
        "updated_objects": 1,
        "error_count": 1,
        "errors_loaded": 1,
        "first_error": "Line 1. Clé: schéma_b ≠ id",
    }
    records = rows(
        on_duckdb,
        "select run_key, records_extracted, records_not_mapped "
        "from jobpulse_marts.mparticle_pipeline_run_records order by run_key",
    )
    assert [tuple(r.values()) for r in records] == [
        ("mparticle:pipe-1:250", 100, 10),
        ("mparticle:pipe-1:251", 1376, 10),
        ("mparticle:pipe-1:252", None, None),
    ]


def test_open_issues_are_those_of_the_latest_load_that_checked_each_spec(
    on_duckdb: Built,
) -> None:
    found = rows(
        on_duckdb,
        "select event_spec_id, event_spec_name, issue_title, observed_at, first_observed_at "
        "from jobpulse_marts.snowplow_event_spec_open_issues order by event_spec_id",
    )
    assert [{k: utc(v) for k, v in r.items()} for r in found] == [
        # stored before compatibility_checked_at existed: its latest findings
        {
            "event_spec_id": "spec-legacy",
            "event_spec_name": "Search",
            "issue_title": "Incompatible with 1-0-1",
            "observed_at": SPEC_L1,
            "first_observed_at": SPEC_L1,
        },
        # found again by L2, which checked it
        {
            "event_spec_id": "spec-open",
            "event_spec_name": "Link click",
            "issue_title": "Incompatible with 1-0-1",
            "observed_at": SPEC_L2,
            "first_observed_at": SPEC_L1,
        },
        # L2 did not check it: still open as L1 found it
        {
            "event_spec_id": "spec-unchecked",
            "event_spec_name": "Checkout",
            "issue_title": "Incompatible with 1-0-1",
            "observed_at": SPEC_L1,
            "first_observed_at": SPEC_L1,
        },
        # spec-cleared: L2 checked it and found none; spec-gone: deleted
    ]


def _staging(built: Built) -> str:
    return built.marts.removesuffix("_marts") + "_staging"


@pytest.fixture(params=["on_duckdb", "on_postgres"])
def built(request: pytest.FixtureRequest) -> Built:
    """Each test using it runs on both builds: DuckDB and PostgreSQL."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_step_logs_are_staged_with_normalised_status_and_the_keys_of_fct_job_steps(
    built: Built,
) -> None:
    staging = _staging(built)
    found = rows(
        built,
        "select run_id, run_key, step_key, status, status_raw, is_stdout_truncated, "
        f"is_stderr_truncated, stderr, stderr_bytes from {staging}.stg_snowplow__step_logs "
        "order by run_id",
    )
    assert [tuple(r.values()) for r in found] == [
        (
            "a2",
            "snowplow:ja@prod:a2",
            "snowplow:ja@prod:a2:load",
            "failed",
            "FAILED",
            False,
            True,
            "…disk full",
            5000,
        ),
        # its run is not loaded: no run key; status matched ignoring case
        ("zz", None, None, "success", "Succeeded", False, False, None, 0),
    ]
    (joined,) = query(
        built.raw,
        f"select count(*) from {staging}.stg_snowplow__step_logs as logs "
        f"inner join {built.marts}.fct_job_steps as steps on logs.step_key = steps.step_key "
        "where steps.status = 'failed'",
    )
    assert joined == (1,)


def test_mparticle_connections_and_data_models_are_staged_without_credential_columns(
    built: Built,
) -> None:
    staging = _staging(built)
    (connection,) = rows(built, f"select * from {staging}.stg_mparticle__connections")
    assert {k: utc(v) for k, v in connection.items()} == {
        "connection_id": "conn-1",
        "connection_name": "Snowflake prod",
        "connection_type": "snowflake",
        "workspace_id": 5328,
        "is_faulted": False,
        "source_account_id": "acme-123",
        "region": "us-east-1",
        "warehouse": "MP_WH",
        "database_name": "MP_DB",
        "created_at": at("03-01 09:00"),
        "created_by": "dev@acme.example",
        "last_modified_at": at("03-02 09:00"),
        "last_modified_by": "ops@acme.example",
    }
    (model,) = rows(
        built,
        "select data_model_id, data_model_name, data_model_type, sql_query, "
        "load_timestamp_field_name, load_timestamp_field_time_offset, created_at "
        f"from {staging}.stg_mparticle__data_models",
    )
    assert tuple(utc(v) for v in model.values()) == (
        "dm-1",
        "Open tickets",
        "sql",
        "SELECT email FROM tickets",
        "updated_at",
        0,
        at("03-01 09:30"),
    )


def test_pipeline_status_snapshots_are_staged_with_the_latest_run_normalised(
    built: Built,
) -> None:
    staging = _staging(built)
    found = rows(
        built,
        "select observed_at, is_faulted, faulted_reason, latest_run_key, latest_run_status, "
        f"latest_run_status_raw from {staging}.stg_mparticle__pipeline_status order by observed_at",
    )
    assert [tuple(utc(v) for v in r.values()) for r in found] == [
        (at("03-18 10:00"), True, "connection refused", None, None, None),
        (at("03-19 10:00"), False, None, "mparticle:pipe-1:250", "failed", "failed"),
        (at("03-20 11:45"), False, None, "mparticle:pipe-1:252", "queued", "dataset_triggered"),
    ]
    (joined,) = query(
        built.raw,
        f"select count(*) from {staging}.stg_mparticle__pipeline_status as snapshots "
        f"inner join {built.marts}.fct_job_runs as runs on snapshots.latest_run_key = runs.run_key",
    )
    assert joined == (2,)


def test_load_gaps_are_staged_with_their_length(built: Built) -> None:
    (gap,) = rows(built, f"select * from {_staging(built)}.stg_jobpulse__load_gaps")
    assert {k: utc(v) for k, v in gap.items()} == {
        "source_system": "snowplow",
        "gap_from": at("03-01 00:00"),
        "gap_to": at("03-02 12:00"),
        "gap_seconds": 36 * 3600.0,
        "gap_reason": "older than the API's 7 days",
        "detected_at": at("03-10 08:00"),
    }


def test_jobs_needing_attention_lists_every_verdict_but_healthy_worst_first(
    on_duckdb: Built,
) -> None:
    found = jobs_needing_attention(on_duckdb.raw)
    assert [(r["health_verdict"], r["job_key"]) for r in found] == [
        ("failing", "snowplow:jb@prod"),
        ("overdue", "snowplow:jj@prod"),
        ("flaky", "snowplow:ja@prod"),
        ("slow", "snowplow:jc@prod"),
        ("slow", "snowplow:jk@prod"),
    ]


@pytest.mark.parametrize("mart", MARTS)
def test_postgres_marts_equal_duckdb_marts(on_duckdb: Built, on_postgres: Built, mart: str) -> None:
    duckdb_rows = query(on_duckdb.raw, f"select * from jobpulse_marts.{mart}")
    postgres_rows = query(on_postgres.raw, f"select * from models_test_marts.{mart}")
    assert normalised(postgres_rows) == normalised(duckdb_rows)


@pytest.mark.parametrize("view", STAGED)
def test_postgres_staging_views_equal_duckdb_ones(
    on_duckdb: Built, on_postgres: Built, view: str
) -> None:
    duckdb_rows = query(on_duckdb.raw, f"select * from {_staging(on_duckdb)}.{view}")
    postgres_rows = query(on_postgres.raw, f"select * from {_staging(on_postgres)}.{view}")
    assert duckdb_rows
    assert normalised(postgres_rows) == normalised(duckdb_rows)
