"""`jobpulse load` builds the models after a successful load unless `--no-models`; `jobpulse
models` options; the demo's list of jobs that need attention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pendulum
import pytest

from jobpulse.pipelines import cli
from jobpulse.pipelines.models import (
    jobs_needing_attention,
    last_load,
    models_pipeline,
    parse_as_of,
    print_jobs_needing_attention,
    schema_prefix,
)
from jobpulse.pipelines.pipeline import destination_for
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox


@pytest.fixture
def snowplow_env(monkeypatch: pytest.MonkeyPatch, snowplow_sandbox: SnowplowSandbox) -> None:
    for key, value in SOURCES["snowplow"].sandbox_settings(snowplow_sandbox).items():
        monkeypatch.setenv(key, value)


def counts(database: Path, *tables: str) -> list[int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return [connection.execute(f"select count(*) from {t}").fetchone()[0] for t in tables]  # type: ignore[index]


@pytest.mark.usefixtures("snowplow_env")
def test_load_builds_the_models_on_the_loaded_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["load", "--source", "snowplow", "--quiet"]) == 0
    assert "models: 26 built" in capsys.readouterr().out
    raw, facts = counts(
        tmp_path / "jobpulse.duckdb",
        "jobpulse_raw.snowplow_job_runs",
        "jobpulse_marts.fct_job_runs",
    )
    assert facts == raw > 0
    # `jobpulse models` without --destination/--dataset goes where this load went
    assert last_load() == ("duckdb", "jobpulse_raw")
    attention = jobs_needing_attention(models_pipeline(destination_for("duckdb")))
    assert all(row["health_verdict"] != "healthy" for row in attention)


@pytest.mark.usefixtures("snowplow_env")
def test_load_with_no_models_only_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("models must not run")

    monkeypatch.setattr(cli, "models_after_load", refuse)
    assert cli.main(["load", "--source", "snowplow", "--quiet", "--no-models"]) == 0
    assert "models:" not in capsys.readouterr().out


def test_a_failed_load_does_not_build_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("models must not run")

    monkeypatch.setattr(cli, "models_after_load", refuse)
    # no Snowplow settings at all: the load fails
    assert cli.main(["load", "--source", "snowplow", "--quiet"]) == 1


def test_last_load_is_none_where_nothing_was_loaded() -> None:
    assert last_load() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T14:00:00Z", pendulum.datetime(2026, 11, 23, 14)),
        ("2026-11-23T15:30:00+01:00", pendulum.datetime(2026, 11, 23, 14, 30)),
        ("2026-11-23T14:00:00", pendulum.datetime(2026, 11, 23, 14)),  # no offset: UTC
    ],
)
def test_as_of_is_read_as_iso_8601_in_utc(text: str, expected: pendulum.DateTime) -> None:
    parsed = parse_as_of(text)
    assert parsed == expected
    assert parsed.utcoffset() == pendulum.duration(0)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", ""])
def test_models_rejects_an_as_of_that_is_not_iso_8601(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["models", "--as-of", text])
    assert exit_info.value.code == 2
    assert "--as-of" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("dataset", "prefix"),
    [("jobpulse_raw", "jobpulse"), ("acme_raw", "acme"), ("vendor_history", "vendor_history")],
)
def test_staging_and_marts_take_the_raw_dataset_name_without_raw(dataset: str, prefix: str) -> None:
    assert schema_prefix(dataset) == prefix


def test_jobs_needing_attention_are_printed_with_their_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_jobs_needing_attention(
        [
            {
                "job_key": "tailer:t|x",
                "source_system": "tailer",
                "job_name": "000099_load_DEV",
                "health_verdict": "failing",
                "last_status": "failed",
                "consecutive_failures": 3,
                "success_rate_30d": 0.25,
                "flaky_flips_30d": 1,
            }
        ]
    )
    out = capsys.readouterr().out
    assert "Jobs that need attention" in out
    assert "failing" in out
    assert "tailer" in out
    assert "000099_load_DEV" in out
    assert "failures in a row  3" in out
    assert "25%" in out


def test_no_job_needing_attention_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    print_jobs_needing_attention([])
    assert "Every job is healthy." in capsys.readouterr().out
