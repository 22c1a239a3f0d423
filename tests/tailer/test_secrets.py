"""The Tailer JWT never reaches logs, exceptions, dlt state, pipeline files, tables or output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.tailer.sandbox import TailerSandbox
from tests.secret_scan import assert_no_secret, exception_chains, files_under, load_leftovers
from tests.tailer.helpers import SMALL_OPERATIONS, load_tailer
from tests.tailer.test_commands import T2T_FLAGS

SENTINEL_JWT = "SENTINEL-tailer-jwt-3f9a"
ECHO = f'{{"code": 401, "data": {{}}, "message": "token {SENTINEL_JWT} expired"}}'


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[TailerSandbox]:
    with TailerSandbox(operations=SMALL_OPERATIONS, jwt=SENTINEL_JWT) as started:
        yield started


def test_no_jwt_in_logs_errors_state_files_or_tables(
    sandbox: TailerSandbox,
    make_pipeline: Callable[..., Pipeline],
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    load_tailer(pipeline, sandbox)
    failures: list[BaseException] = []
    for status in (401, 403, 500):
        sandbox.inject("/v1/dag/status", Fault.status_code(status, body=ECHO), times=None)
        with pytest.raises(Exception) as raised:  # noqa: PT011 - its text is what matters
            load_tailer(pipeline, sandbox)
        sandbox.clear_faults()
        failures.append(raised.value)

    assert all_logs, "DEBUG logging must have produced lines to check"
    chains = exception_chains(*failures)
    assert "JWT was rejected" in chains["exception chain 0"]
    assert_no_secret(
        [SENTINEL_JWT],
        load_leftovers(pipeline, all_logs, capfd, failures, tmp_path / "pipelines"),
    )


def test_no_jwt_in_cli_output_or_any_file_it_writes(
    sandbox: TailerSandbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for key, value in SOURCES["tailer"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)
    assert main(["--log-level", "DEBUG", "load", "--source", "tailer", "--no-models"]) == 0
    sandbox.inject("/v1/*", Fault.status_code(401, body=ECHO), times=None)

    assert main(["--log-level", "DEBUG", "check", "--source", "tailer"]) == 1
    assert main(["--log-level", "DEBUG", "load", "--source", "tailer", "--no-models"]) == 1
    assert main(["--log-level", "DEBUG", "tailer", "status", *T2T_FLAGS]) == 1
    assert main(["--log-level", "DEBUG", "tailer", "launch", *T2T_FLAGS]) == 1

    captured = capfd.readouterr()
    assert captured.out.count("tailer auth get-token") == 2  # check and load
    assert captured.err.count("tailer auth get-token") >= 2  # the tailer commands
    # The DuckDB file, dlt's state and trace files.
    assert_no_secret(
        [SENTINEL_JWT], {"command output": captured.out + captured.err, **files_under(tmp_path)}
    )
