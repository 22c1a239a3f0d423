"""No client secret, token or warehouse credential reaches logs, errors, dlt state, pipeline files,
tables or command output. Sentinels stand in for each; the sandbox sends the credential fields
unmasked and echoes secrets back in error bodies."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.mparticle.sandbox import MparticleSandbox
from jobpulse.sources.shared.sandbox import Fault
from tests.mparticle.helpers import load_mparticle
from tests.secret_scan import assert_no_secret, files_under, load_leftovers

SECRET = "SENTINEL-client-secret-31f0"
TOKEN = "SENTINEL-token-8a2c"
CREDENTIAL = "SENTINEL-warehouse-pw-77d1"
SENTINELS = (SECRET, TOKEN, CREDENTIAL)
ECHO = json.dumps({"errors": [{"message": f"denied: {SECRET} {TOKEN}-1 {CREDENTIAL}"}]})


@pytest.fixture(params=["platform/experimental", "platform/v2"])
def sandbox(
    request: pytest.FixtureRequest, clock: time_machine.Traveller
) -> Iterator[MparticleSandbox]:
    counter = itertools.count(1)
    with MparticleSandbox(
        api_path=request.param,
        client_secret=SECRET,
        issue_token=lambda: f"{TOKEN}-{next(counter)}",
        credential_value=CREDENTIAL,
    ) as started:
        yield started


def test_no_secret_in_logs_errors_state_files_or_tables(
    sandbox: MparticleSandbox,
    make_pipeline: Callable[..., Pipeline],
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    load_mparticle(pipeline, sandbox)
    sandbox.expire_tokens()
    load_mparticle(pipeline, sandbox)  # a 401, a re-mint, a complete load
    sandbox.inject("*/status/runs", Fault.status_code(500, body=ECHO), times=None)
    with pytest.raises(Exception) as failed:  # noqa: PT011 - its text is what matters
        load_mparticle(pipeline, sandbox)
    sandbox.clear_faults()
    sandbox.expire_tokens()
    sandbox.inject("/oauth/token", Fault.status_code(401, body=ECHO))
    with pytest.raises(Exception) as refused:  # noqa: PT011
        load_mparticle(pipeline, sandbox)

    assert len(sandbox.issued_tokens) >= 2, "the test must exercise re-minted tokens"
    assert any(SECRET in str(r.json) for r in sandbox.requests), "the secret must have been sent"
    assert all_logs, "DEBUG logging must have produced lines to check"
    assert_no_secret(
        SENTINELS,
        load_leftovers(
            pipeline, all_logs, capfd, (failed.value, refused.value), tmp_path / "pipelines"
        ),
    )


def test_no_secret_in_command_output_nor_any_file_it_writes(
    sandbox: MparticleSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for key, value in SOURCES["mparticle"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)
    assert main(["--log-level", "DEBUG", "load", "--source", "mparticle", "--no-models"]) == 0
    assert main(["--log-level", "DEBUG", "check", "--source", "mparticle"]) == 0
    assert main(["--log-level", "DEBUG", "mparticle", "trigger", "on-demand-pipeline"]) == 0
    sandbox.expire_tokens()
    sandbox.inject("/oauth/token", Fault.status_code(401, body=ECHO), times=None)
    assert main(["--log-level", "DEBUG", "check", "--source", "mparticle"]) == 1
    assert main(["--log-level", "DEBUG", "mparticle", "trigger", "on-demand-failing"]) == 3

    captured = capfd.readouterr()
    assert "SOURCES__MPARTICLE__CLIENT_SECRET" in captured.out
    written = files_under(tmp_path)  # the DuckDB file, dlt's state, schemas, packages, traces
    assert any(where.endswith("jobpulse.duckdb") for where in written)
    assert_no_secret(
        SENTINELS,
        {"command output": captured.out + captured.err, **written},
    )
