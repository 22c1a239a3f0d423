"""`jobpulse load --source snowplow`: jobs and event specifications in one pipeline and summary."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox

_TABLES = ("snowplow_job_runs", "snowplow_event_specs", "snowplow_event_spec_history")


@pytest.fixture
def snowplow_env(monkeypatch: pytest.MonkeyPatch, snowplow_sandbox: SnowplowSandbox) -> None:
    for key, value in SOURCES["snowplow"].sandbox_settings(snowplow_sandbox).items():
        monkeypatch.setenv(key, value)


def _count(tmp_path: Path, table: str) -> int:
    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        row = connection.execute(f"select count(*) from jobpulse_raw.{table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("snowplow_env")
def test_a_refused_spec_is_named_the_rest_commits_and_the_command_exits_1(
    snowplow_sandbox: SnowplowSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    views = snowplow_sandbox.event_spec_catalogue()
    refused = views[0].spec
    body = {"errors": [{"type": "Error", "code": "Conflict", "title": "being edited"}]}
    snowplow_sandbox.inject(
        f"*/event-specs/v1/{refused['id']}", Fault.status_code(409, body=json.dumps(body))
    )

    assert main(["load", "--source", "snowplow", "--quiet"]) == 1

    out = capsys.readouterr().out
    assert out.startswith("snowplow: loaded into duckdb file ")
    (error_line,) = [line for line in out.splitlines() if "ERROR:" in line]
    assert refused["id"] in error_line
    assert refused["name"] in error_line
    assert "HTTP 409" in error_line
    assert "Conflict: being edited" in error_line
    for table in _TABLES:
        assert table in out
        assert _count(tmp_path, table) > 0
    assert _count(tmp_path, "snowplow_event_specs") == len(views)


@pytest.mark.usefixtures("snowplow_env")
def test_event_specs_switched_off_loads_the_jobs_only(
    monkeypatch: pytest.MonkeyPatch, snowplow_sandbox: SnowplowSandbox
) -> None:
    monkeypatch.setenv("SOURCES__SNOWPLOW__EVENT_SPECS", "false")
    assert main(["load", "--source", "snowplow", "--quiet", "--no-models"]) == 0
    assert snowplow_sandbox.event_spec_requests == []
