"""`sql/` used as a package by a user's own dbt project (packages.yml local path, the raw schema
a var), on a warehouse where only Snowplow was ever loaded: Tailer, Alation and mParticle have no
table at all, and every model still builds."""

from __future__ import annotations

import contextlib
import io
import textwrap

import dlt
import pytest
from dbt.cli.main import dbtRunner

from jobpulse.sql import PROJECT_DIR
from tests.models.conftest import isolated
from tests.models.histories import AS_OF_TEXT, load_raw, query, snowplow_runs


@pytest.fixture(scope="module")
def outside_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[bool, dlt.Pipeline]:
    root = tmp_path_factory.mktemp("outside_project")
    database = root / "warehouse.duckdb"
    with isolated(root):
        raw = load_raw(
            {"snowplow_job_runs": snowplow_runs()},
            dlt.destinations.duckdb(str(database)),
            "vendor_raw",
            str(root / "p"),
        )
    project = root / "analytics"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        textwrap.dedent(f"""
            name: analytics
            version: "1.0.0"
            config-version: 2
            profile: analytics
            flags:
              send_anonymous_usage_stats: false
            vars:
              jobpulse_raw_schema: vendor_raw
              jobpulse_schema_prefix: ext
              as_of: "{AS_OF_TEXT}"
        """)
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {PROJECT_DIR}\n")
    (project / "profiles.yml").write_text(
        textwrap.dedent(f"""
            analytics:
              target: dev
              outputs:
                dev:
                  type: duckdb
                  path: {database}
                  schema: analytics
        """)
    )
    # the user's own model on top of jobpulse's marts
    (project / "models" / "failing_jobs.sql").write_text(
        "select job_key from {{ ref('job_health') }} where health_verdict = 'failing'\n"
    )
    args = ["--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    runner = dbtRunner()
    with contextlib.redirect_stdout(io.StringIO()):
        installed = runner.invoke(["deps", *args]).success
        built = installed and runner.invoke(["run", *args]).success
    return built, raw


def test_user_project_builds_jobpulse_as_a_package(
    outside_project: tuple[bool, dlt.Pipeline],
) -> None:
    built, _ = outside_project
    assert built


def test_vendors_without_tables_add_no_rows_and_no_error(
    outside_project: tuple[bool, dlt.Pipeline],
) -> None:
    _, raw = outside_project
    # jobpulse's schema names come with the package: <jobpulse_schema_prefix>_marts
    by_vendor = query(
        raw,
        "select source_system, count(*) from ext_marts.fct_job_runs group by source_system",
    )
    assert by_vendor == [("snowplow", len(snowplow_runs()))]
    assert query(raw, "select count(*) from analytics.failing_jobs") == [(1,)]
    for empty in (
        "stg_tailer__runs",
        "stg_alation__jobs",
        "stg_mparticle__pipeline_runs",
        "stg_snowplow__step_logs",
        "stg_mparticle__connections",
        "stg_mparticle__data_models",
        "stg_mparticle__pipeline_status",
        "stg_jobpulse__load_gaps",
        "stg_snowplow__event_specs",
    ):
        assert query(raw, f"select count(*) from ext_staging.{empty}") == [(0,)]
    for mart in ("snowplow_event_spec_changes", "snowplow_event_spec_open_issues"):
        assert query(raw, f"select count(*) from ext_marts.{mart}") == [(0,)]
