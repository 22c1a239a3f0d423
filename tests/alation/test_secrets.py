"""No Alation token (API token, refresh token, minted token) reaches logs, errors, state, files,
tables or command output: sentinel values stand in for each, and the sandbox echoes them back."""

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
from jobpulse.sources.alation.sandbox import AlationSandbox
from jobpulse.sources.shared.sandbox import Fault
from tests.alation.conftest import TEST_REQUESTS_PER_SECOND, load_alation
from tests.secret_scan import assert_no_secret, load_leftovers

SENTINEL_API_TOKEN = "SENTINEL-alation-api-token-3f1c"
SENTINEL_REFRESH = "SENTINEL-alation-refresh-9d2e"
SENTINEL_MINTED = "SENTINEL-alation-minted-77ab"
SENTINELS = (SENTINEL_API_TOKEN, SENTINEL_REFRESH, SENTINEL_MINTED)
ECHO = json.dumps({"detail": f"bad {SENTINEL_API_TOKEN} {SENTINEL_REFRESH} {SENTINEL_MINTED}-1"})
JOB = "/api/v1/bulk_metadata/job/"
TOKEN = "/integration/v1/createAPIAccessToken/"


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[AlationSandbox]:
    counter = itertools.count(1)
    with AlationSandbox(
        api_token=SENTINEL_API_TOKEN,
        refresh_token=SENTINEL_REFRESH,
        issue_token=lambda: f"{SENTINEL_MINTED}-{next(counter)}",
        requests_per_second=TEST_REQUESTS_PER_SECOND,
    ) as started:
        yield started


def test_no_token_in_logs_errors_state_traces_or_tables(
    sandbox: AlationSandbox,
    make_pipeline: Callable[..., Pipeline],
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, sandbox, flow="refresh_token")
    sandbox.expire_tokens()
    load_alation(pipeline, sandbox, flow="refresh_token")  # re-minted on the 401
    load_alation(pipeline, sandbox, flow="api_token")
    failures = []
    sandbox.inject(JOB, Fault.status_code(500, body=ECHO), times=None)
    for flow in ("api_token", "refresh_token"):
        sandbox.expire_tokens()
        with pytest.raises(Exception) as failure:  # noqa: PT011 - its text is what matters
            load_alation(pipeline, sandbox, flow=flow)
        failures.append(failure.value)
    sandbox.clear_faults()
    sandbox.inject(TOKEN, Fault.status_code(401, body=ECHO))
    with pytest.raises(Exception) as auth_failure:  # noqa: PT011
        load_alation(pipeline, sandbox, flow="refresh_token")
    failures.append(auth_failure.value)
    sandbox.inject(JOB, Fault.status_code(401, body=ECHO), times=None)
    with pytest.raises(Exception) as job_auth_failure:  # noqa: PT011
        load_alation(pipeline, sandbox, flow="api_token")
    failures.append(job_auth_failure.value)

    assert len(sandbox.issued_tokens) >= 3, "the test must exercise minted tokens"
    assert all_logs, "DEBUG logging must have produced lines to check"
    assert_no_secret(
        SENTINELS,
        load_leftovers(pipeline, all_logs, capfd, failures, tmp_path / "pipelines"),
    )


def test_no_token_in_cli_output(
    sandbox: AlationSandbox, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = SOURCES["alation"].sandbox_settings(sandbox)
    assert settings["SOURCES__ALATION__API_TOKEN"] == SENTINEL_API_TOKEN
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    sandbox.inject(JOB, Fault.status_code(401, body=ECHO), times=2)

    assert main(["--log-level", "DEBUG", "check", "--source", "alation"]) == 1
    assert main(["--log-level", "DEBUG", "load", "--source", "alation", "--no-models"]) == 1
    monkeypatch.delenv("SOURCES__ALATION__API_TOKEN")
    monkeypatch.setenv("SOURCES__ALATION__REFRESH_TOKEN", SENTINEL_REFRESH)
    monkeypatch.setenv("SOURCES__ALATION__USER_ID", str(sandbox.user_id))
    assert main(["--log-level", "DEBUG", "load", "--source", "alation", "--no-models"]) == 0

    captured = capfd.readouterr()
    assert "check SOURCES__ALATION__API_TOKEN" in captured.out
    assert sandbox.issued_tokens
    assert_no_secret(SENTINELS, {"command output": captured.out + captured.err})
