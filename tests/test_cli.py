"""The `jobpulse` command: help, load, check, sandbox and demo, with their output and exit codes."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.demo import RUNS_BY_JOB_TITLE
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import environment, running_sandboxes
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox


@pytest.fixture
def snowplow_env(monkeypatch: pytest.MonkeyPatch, snowplow_sandbox: SnowplowSandbox) -> None:
    for key, value in SOURCES["snowplow"].sandbox_settings(snowplow_sandbox).items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("command", [[], ["load"], ["check"], ["sandbox"], ["demo"]])
def test_help_describes_every_command(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: jobpulse")
    if command == ["load"]:
        for option in ("--destination", "--dataset", "--workers"):
            assert option in out


@pytest.mark.usefixtures("snowplow_env")
def test_load_writes_jobpulse_duckdb_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", "--source", "snowplow", "--quiet", "--no-models"]) == 0
    out = capsys.readouterr().out
    where = f"duckdb file {tmp_path / 'jobpulse.duckdb'}, dataset jobpulse_raw"
    assert out.startswith(f"snowplow: loaded into {where} (")
    assert "new runs" in out
    for table in ("snowplow_job_runs", "snowplow_job_steps", "snowplow_step_logs"):
        assert table in out
    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        row = connection.execute("select count(*) from jobpulse_raw.snowplow_job_runs").fetchone()
        assert row is not None
        (runs,) = row
    assert f"snowplow_job_runs {runs:>8} rows" in " ".join(out.split()) or str(runs) in out


@pytest.mark.usefixtures("clock")
def test_load_into_a_named_dataset(tmp_path: Path) -> None:
    # `all` loads every registered source, each from its sandbox.
    with running_sandboxes(list(SOURCES)) as settings, environment(settings):
        load_all = ["load", "--source", "all", "--dataset", "vendor_history", "--quiet"]
        assert main([*load_all, "--no-models"]) == 0
    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        row = connection.execute("select count(*) from vendor_history.snowplow_job_runs").fetchone()
        assert row is not None
        (runs,) = row
    assert runs > 0


@pytest.mark.usefixtures("snowplow_env")
def test_load_fails_with_exit_1_and_says_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__SNOWPLOW__ORGANIZATION_ID", "00000000-0000-0000-0000-000000000000")
    assert main(["load", "--source", "snowplow", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("snowplow: FAILED: ")
    assert "organization not found" in out
    assert "SOURCES__SNOWPLOW__ORGANIZATION_ID" in out


def test_load_without_settings_names_the_missing_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--source", "snowplow", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "SOURCES__SNOWPLOW__ORGANIZATION_ID" in out or "SOURCES__SNOWPLOW__API_KEY" in out


@pytest.mark.usefixtures("snowplow_env")
def test_check_reports_the_token_flow_and_the_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--source", "snowplow"]) == 0
    out = capsys.readouterr().out
    assert "v3 token issued" in out
    assert "runs in the last hour" in out


@pytest.mark.usefixtures("snowplow_env")
def test_check_says_plainly_when_the_key_is_rejected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__SNOWPLOW__API_KEY", "not-the-key")
    assert main(["check", "--source", "snowplow"]) == 1
    assert "API key rejected" in capsys.readouterr().out


def test_sandbox_command_prints_settings_that_work(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "jobpulse.pipelines.cli", "sandbox"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        for line in process.stdout:
            if line.startswith("export "):
                (assignment,) = shlex.split(line.removeprefix("export "))
                key, _, value = assignment.partition("=")
                settings[key] = value
            if line.startswith("Press Ctrl-C"):
                break
        assert settings["SOURCES__SNOWPLOW__BASE_URL"].startswith("http://127.0.0.1:")
        checked = subprocess.run(
            [sys.executable, "-m", "jobpulse.pipelines.cli", "check", "--source", "snowplow"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **settings, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            timeout=60,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_demo_loads_the_sandbox_into_jobpulse_demo_duckdb_and_leaves_real_data_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "jobpulse.duckdb"
    with duckdb.connect(str(real)) as connection:
        connection.execute("create schema jobpulse_raw")
        connection.execute("create table jobpulse_raw.snowplow_job_runs as select 'real' as run_id")
    before = real.read_bytes()

    assert main(["demo"]) == 0

    out = capsys.readouterr().out
    assert RUNS_BY_JOB_TITLE in out
    for source in SOURCES:  # every vendor's runs reach the marts the summary reads
        assert f"\n  {source:<10}" in out, source
    assert "Jobs that need attention (from the job_health mart):" in out
    assert f"duckdb file {tmp_path / 'jobpulse_demo.duckdb'}" in out
    with duckdb.connect(str(tmp_path / "jobpulse_demo.duckdb"), read_only=True) as connection:
        jobs = connection.execute(
            "select count(distinct job_name) from jobpulse_raw.snowplow_job_runs"
        ).fetchone()
    assert jobs == (4,)
    assert real.read_bytes() == before


@pytest.mark.usefixtures("snowplow_env")
def test_load_into_postgres_by_destination_name(
    monkeypatch: pytest.MonkeyPatch, postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn)
    dataset = "cli_postgres_raw"
    assert main(["load", "--source", "snowplow", "--destination", "postgres",
                 "--dataset", dataset, "--quiet", "--no-models"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("snowplow: loaded into postgres postgresql://")
    assert f", dataset {dataset} (" in out
    import psycopg2

    with psycopg2.connect(postgres_dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"select count(*) from {dataset}.snowplow_job_runs")
        (runs,) = cursor.fetchone()
    assert runs > 0


@pytest.mark.usefixtures("snowplow_env")
def test_load_writes_the_duckdb_file_dlt_settings_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "history" / "vendors.duckdb"
    elsewhere.parent.mkdir()
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(elsewhere))
    assert main(["load", "--source", "snowplow", "--quiet", "--no-models"]) == 0
    assert elsewhere.exists()
    assert not (tmp_path / "jobpulse.duckdb").exists()


def test_settings_are_read_from_dot_dlt_toml_files(
    snowplow_sandbox: SnowplowSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = snowplow_sandbox.source_settings()
    dot_dlt = tmp_path / ".dlt"  # the working directory is tmp_path
    dot_dlt.mkdir()
    (dot_dlt / "config.toml").write_text(
        f'[sources.snowplow]\nbase_url = "{settings["base_url"]}"\n'
        f'organization_id = "{settings["organization_id"]}"\n'
    )
    (dot_dlt / "secrets.toml").write_text(
        f'[sources.snowplow]\napi_key = "{settings["api_key"]}"\n'
        f'api_key_id = "{settings["api_key_id"]}"\n'
    )
    # As a new `jobpulse` process would: read the files that now exist.
    Container()[PluggableRunContext].reload_providers()
    assert main(["check", "--source", "snowplow"]) == 0
    assert main(["load", "--source", "snowplow", "--quiet", "--no-models"]) == 0
    out = capsys.readouterr().out
    assert "v3 token issued" in out
    assert "snowplow: loaded" in out


@pytest.mark.usefixtures("snowplow_env")
def test_load_reports_progress_on_stderr_and_the_summary_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["load", "--source", "snowplow", "--no-models"]) == 0
    captured = capsys.readouterr()
    assert "Extract snowplow" in captured.err
    assert "snowplow_job_runs" in captured.err  # items counted per resource as they arrive
    assert "Extract" not in captured.out
    assert captured.out.startswith("snowplow: loaded")
