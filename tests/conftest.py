"""Fixtures shared by every test: an isolated dlt environment, a movable clock, the sandboxes."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pendulum
import pytest
import time_machine
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.destination.reference import TDestinationReferenceArg
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import with_load_capabilities
from jobpulse.sources.shared import redaction
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.fault_matrix import FaultMatrix
from tests.postgres_server import throwaway_postgres

# A fixed instant keeps the sandbox's history, and so every expectation, deterministic.
FIXED_NOW = pendulum.datetime(2026, 3, 2, 12, 30, 0)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user settings leak in; the working directory (and its .dlt/) is the test's own."""
    for key in list(os.environ):
        if key.startswith(("SOURCES__", "DESTINATION__", "EXTRACT__", "RUNTIME__")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    # dlt keeps pipelines' state and traces under its data folder (~/.dlt by default): never
    # the user's. Read when a run context is made, so set before the reload below.
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    # Before the reload below, which starts dlt's telemetry unless this says no.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    # dlt fixes its run directory, where it reads `.dlt/*.toml`, once per process: move it too.
    Container()[PluggableRunContext].reload(str(tmp_path))
    # Retries stay on, but their backoff is short so fault tests run fast.
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.01")


@pytest.fixture(autouse=True)
def isolated_secrets(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """A fresh redaction registry per test, so one test's secrets cannot hide another's leak."""
    secrets: set[str] = set()
    monkeypatch.setattr(redaction, "_secrets", secrets)
    return secrets


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each wait between retry attempts (tenacity calls `time.sleep`), recorded, not slept."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded


@pytest.fixture
def all_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every log record of every logger (dlt's too, which does not propagate), at DEBUG."""
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "DEBUG")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("dlt")]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture
def clock_start() -> pendulum.DateTime:
    """Where `clock` starts; a test module overrides this fixture to start elsewhere."""
    return FIXED_NOW


@pytest.fixture
def clock(clock_start: pendulum.DateTime) -> Iterator[time_machine.Traveller]:
    """The wall clock at `clock_start`, ticking; `clock.shift(s)` moves sandbox and jobpulse."""
    with time_machine.travel(clock_start, tick=True) as traveller:
        yield traveller


@pytest.fixture
def snowplow_sandbox(clock: time_machine.Traveller) -> Iterator[SnowplowSandbox]:
    with SnowplowSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Callable[..., Pipeline]:
    """A dlt pipeline with its working directory under the test's tmp_path (DuckDB by default)."""

    def make(
        name: str = "jobpulse_test", destination: TDestinationReferenceArg | None = None
    ) -> Pipeline:
        return dlt.pipeline(
            pipeline_name=name,
            destination=with_load_capabilities(
                destination or dlt.destinations.duckdb(str(tmp_path / f"{name}.duckdb"))
            ),
            dataset_name="jobpulse_raw",
            pipelines_dir=str(tmp_path / "pipelines"),
        )

    return make


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (never skipped: CI installs it)."""
    with throwaway_postgres() as dsn:
        yield dsn


@pytest.fixture
def fault_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> FaultMatrix:
    """The fault-matrix harness, bound to this test's folder, environment and output."""
    return FaultMatrix(tmp_path, monkeypatch, capfd)
