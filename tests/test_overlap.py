"""One load per pipeline at a time: a second load exits with code 75, or waits when asked to.

The first load runs as a child process paused in the middle of its extract stage, holding what a
running load holds; the others start while it is paused, as overlapping cron runs would.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pendulum
import pytest

from jobpulse.pipelines.lock import EX_TEMPFAIL
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.child_load import child_command, child_environment

BUSY_LINE = "snowplow: not started: another load of snowplow is running"


@pytest.fixture(params=["duckdb", "postgres"])
def load_args(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`jobpulse load` arguments for one destination; PostgreSQL gets a dataset of its own."""
    args = ["load", "--source", "snowplow", "--quiet", "--no-models"]
    if request.param == "duckdb":
        return args
    dsn: str = request.getfixturevalue("postgres_dsn")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", dsn)
    return [*args, "--destination", "postgres", "--dataset", f"overlap_{uuid.uuid4().hex[:8]}"]


@pytest.fixture
def environment(snowplow_sandbox: SnowplowSandbox, tmp_path: Path) -> dict[str, str]:
    settings = SOURCES["snowplow"].sandbox_settings(snowplow_sandbox)
    return child_environment(settings, pendulum.now("UTC"), tmp_path / "dlt-data")


def _start(args: list[str], environment: dict[str, str], **hooks: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        child_command(*args),
        env={**environment, **hooks},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def paused_load(args: list[str], environment: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A load stopped in the middle of its extract stage until the block ends, then finished."""
    first = _start(args, environment, JOBPULSE_TEST_PAUSE_AT="extract")
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "PAUSED", first.stderr
        yield first
    finally:
        first.communicate(timeout=300)  # closing its stdin lets it go on


def test_loads_started_while_one_runs_exit_75_naming_the_source(
    load_args: list[str], environment: dict[str, str]
) -> None:
    with paused_load(load_args, environment) as first:
        second, third = (_start(load_args, environment) for _ in range(2))
        outcomes = [process.communicate(timeout=300) for process in (second, third)]
        assert [second.returncode, third.returncode] == [EX_TEMPFAIL, EX_TEMPFAIL], outcomes
        for out, err in outcomes:
            assert out.startswith(BUSY_LINE), out + err
            assert "Traceback" not in err
    assert first.returncode == 0


def test_a_load_told_to_wait_for_the_lock_loads_after_the_running_one(
    load_args: list[str], environment: dict[str, str]
) -> None:
    with paused_load(load_args, environment) as first:
        second = _start([*load_args, "--wait-for-lock", "300"], environment)
        assert second.stderr is not None
        waiting = second.stderr.readline()
        assert "another load of snowplow is running; waiting up to 300 s" in waiting
    assert first.returncode == 0
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, out + err
    assert out.startswith("snowplow: loaded into"), out
