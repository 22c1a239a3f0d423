"""`jobpulse load|check --source mparticle` against the sandbox."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.mparticle.sandbox import MparticleSandbox
from jobpulse.sources.shared.sandbox import Fault

TABLES = (
    "mparticle_connections",
    "mparticle_data_models",
    "mparticle_pipelines",
    "mparticle_pipeline_status",
    "mparticle_pipeline_runs",
)


@pytest.fixture
def env(sandbox: MparticleSandbox, monkeypatch: pytest.MonkeyPatch) -> MparticleSandbox:
    for key, value in SOURCES["mparticle"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)
    return sandbox


def test_load_writes_every_table_and_prints_a_summary(
    env: MparticleSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", "--source", "mparticle", "--quiet", "--no-models"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("mparticle: loaded")
    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        for table in TABLES:
            assert table in out
            row = connection.execute(f"select count(*) from jobpulse_raw.{table}").fetchone()
            assert row is not None
            assert row[0] > 0


def test_check_reports_the_workspace_and_its_pipelines(
    env: MparticleSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--source", "mparticle"]) == 0
    out = capsys.readouterr().out
    assert "workspace 5328 lists 5 Warehouse Sync pipelines at platform/experimental" in out


def test_check_with_a_wrong_api_path_says_which_setting(
    env: MparticleSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__MPARTICLE__API_PATH", "platform/v1")
    assert main(["check", "--source", "mparticle"]) == 1
    assert "SOURCES__MPARTICLE__WORKSPACE_ID and API_PATH" in capsys.readouterr().out


def test_a_failing_load_exits_1_naming_vendor_endpoint_and_pipeline(
    env: MparticleSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    env.inject("*/on-demand-pipeline/status", Fault.status_code(505), times=None)

    assert main(["load", "--source", "mparticle", "--quiet", "--no-models"]) == 1

    out = capsys.readouterr().out
    assert "mparticle: FAILED: mParticle API GET /platform/experimental/workspaces/5328/" in out
    assert "pipeline 'on-demand-pipeline'" in out
