"""`jobpulse load|check --source alation` against the sandbox: exit codes and what is printed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.alation.sandbox import AlationSandbox


@pytest.fixture
def alation_env(monkeypatch: pytest.MonkeyPatch, alation_sandbox: AlationSandbox) -> AlationSandbox:
    for key, value in SOURCES["alation"].sandbox_settings(alation_sandbox).items():
        monkeypatch.setenv(key, value)
    return alation_sandbox


def test_load_writes_both_tables_and_prints_a_summary(
    alation_env: AlationSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", "--source", "alation", "--quiet", "--no-models"]) == 0

    out = capsys.readouterr().out
    where = f"duckdb file {tmp_path / 'jobpulse.duckdb'}, dataset jobpulse_raw"
    assert out.startswith(f"alation: loaded into {where} (")
    assert "finished jobs" in out
    assert "running jobs" in out
    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        jobs = connection.execute("select count(*) from jobpulse_raw.alation_jobs").fetchone()
        errors = connection.execute(
            "select count(*) from jobpulse_raw.alation_job_errors"
        ).fetchone()
    assert jobs is not None
    assert errors is not None
    words = " ".join(out.split())
    assert f"alation_jobs {jobs[0]} rows" in words
    assert f"alation_job_errors {errors[0]} rows" in words


def test_check_says_the_token_works(
    alation_env: AlationSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--source", "alation"]) == 0

    assert "Alation: API token accepted by the Job Status API; job 1 is 'successful'" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("command", ["check", "load"])
def test_a_refused_token_fails_with_the_setting_to_fix(
    alation_env: AlationSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.setenv("SOURCES__ALATION__API_TOKEN", "an-expired-token")

    assert main([command, "--source", "alation"]) == 1

    out = capsys.readouterr().out
    assert out.startswith("alation: FAILED: Alation API GET /api/v1/bulk_metadata/job/?")
    assert ": HTTP 401: the API token was refused" in out
    assert "check SOURCES__ALATION__API_TOKEN" in out


def test_a_refresh_token_check_mints_first(
    alation_env: AlationSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SOURCES__ALATION__API_TOKEN")
    monkeypatch.setenv("SOURCES__ALATION__REFRESH_TOKEN", alation_env.refresh_token)
    monkeypatch.setenv("SOURCES__ALATION__USER_ID", str(alation_env.user_id))

    assert main(["check", "--source", "alation"]) == 0

    assert "Alation: refresh token accepted" in capsys.readouterr().out
    assert len(alation_env.issued_tokens) == 1


def test_load_without_a_base_url_names_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--source", "alation", "--quiet", "--no-models"]) == 1

    assert "SOURCES__ALATION__BASE_URL" in capsys.readouterr().out


def test_job_ids_in_the_environment_are_a_json_list(
    alation_env: AlationSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCES__ALATION__JOB_IDS", "[2, 4]")
    monkeypatch.setenv("SOURCES__ALATION__DISCOVER_MAX_MISSES", "0")
    monkeypatch.setenv("SOURCES__ALATION__JOB_NAMES", "[]")

    assert main(["load", "--source", "alation", "--quiet", "--no-models"]) == 0

    with duckdb.connect(str(tmp_path / "jobpulse.duckdb"), read_only=True) as connection:
        refs = connection.execute("select job_ref from jobpulse_raw.alation_jobs").fetchall()
    assert sorted(refs) == [("id:2",), ("id:4",)]
