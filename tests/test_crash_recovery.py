"""A load killed at any stage is finished by the next load, which then loads what is new.

Each load runs as its own `jobpulse load` process, as a scheduler runs it, against the Snowplow
sandbox. The sandbox's clock is frozen and moved by the test, so a pipeline that was killed and a
clean one loading at the same instants see the same API answers: their tables must be equal.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pendulum
import pytest
import time_machine

from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.child_load import STAGES, child_command, child_environment

# Columns that record when or in which load a row was written, not what the API said.
_BOOKKEEPING = (
    "_dlt_load_id",
    "_dlt_id",
    "detected_at",
    "observed_at",
    "compatibility_checked_at",
)


@pytest.fixture
def clock(clock_start: pendulum.DateTime) -> Iterator[time_machine.Traveller]:
    """Frozen: the sandbox answers the same at an instant, however long a load takes."""
    with time_machine.travel(clock_start, tick=False) as traveller:
        yield traveller


@dataclass
class Scheduled:
    """`jobpulse load` run by a scheduler from `folder`: ./jobpulse.duckdb and its own dlt data."""

    folder: Path
    sandbox: SnowplowSandbox

    def load(self, **hooks: str) -> subprocess.CompletedProcess[str]:
        self.folder.mkdir(exist_ok=True)
        settings = SOURCES["snowplow"].sandbox_settings(self.sandbox)
        return subprocess.run(
            child_command("load", "--source", "snowplow", "--quiet", "--no-models"),
            cwd=self.folder,
            env=child_environment(settings, pendulum.now("UTC"), self.folder / "dlt", **hooks),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every data table of the dataset, bookkeeping columns left out, rows sorted."""
        with duckdb.connect(str(self.folder / "jobpulse.duckdb"), read_only=True) as connection:
            names = [
                name
                for (name,) in connection.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'jobpulse_raw' and not starts_with(table_name, '_dlt')"
                ).fetchall()
            ]
            tables = {}
            for name in names:
                cursor = connection.execute(f"select * from jobpulse_raw.{name}")
                keep = [i for i, d in enumerate(cursor.description) if d[0] not in _BOOKKEEPING]
                rows = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
                tables[name] = sorted(rows, key=repr)
        return tables


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("first_load", [False, True], ids=["later-load", "first-load"])
@pytest.mark.parametrize("stage", list(STAGES))
def test_after_a_kill_at_any_stage_one_load_ends_with_the_tables_of_a_clean_load(
    stage: str,
    first_load: bool,
    snowplow_sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    tmp_path: Path,
) -> None:
    killed = Scheduled(tmp_path / "killed", snowplow_sandbox)
    clean = Scheduled(tmp_path / "clean", snowplow_sandbox)
    if not first_load:
        _ok(killed.load())
        _ok(clean.load())
        runs_before = len(killed.tables()["snowplow_job_runs"])
        clock.shift(pendulum.duration(hours=3))

    crashed = killed.load(JOBPULSE_TEST_KILL_AT=stage)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    # Whether the killed load's data survives: not when nothing was committed (extract), nor
    # when dlt discards a first load's packages because their dataset does not exist yet.
    kept = stage == "load" or (stage == "normalize" and not first_load)
    if kept:
        _ok(clean.load())  # the clean pipeline loads what the killed one had extracted
    clock.shift(pendulum.duration(hours=3))  # runs start, run and finish in between
    recovered = _ok(killed.load())
    _ok(clean.load())

    lines = recovered.splitlines()
    if kept:
        # One package per source of the pipeline: Snowplow's jobs and its event specifications.
        assert lines[0].startswith("snowplow: finished 2 load packages left by an interrupted load")
    elif stage == "normalize":
        assert "left by an interrupted first load discarded" in lines[0], recovered
    else:
        assert not [line for line in lines if "interrupted" in line], recovered
    loaded = next(line for line in lines if line.startswith("snowplow: loaded into"))
    assert "new runs" in loaded, recovered
    assert killed.tables() == clean.tables()
    if not first_load:
        assert len(killed.tables()["snowplow_job_runs"]) > runs_before
