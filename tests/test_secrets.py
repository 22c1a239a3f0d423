"""Secrets never reach logs, exceptions, dlt state, trace files, tables or command output.

Sentinel values stand in for the API key, the key ID and every minted token; after loads that
succeed, re-mint, and fail with the vendor echoing the credentials back, no artefact holds one.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.sandbox import DEFAULT_JOBS, JobSpec, SnowplowSandbox
from tests.secret_scan import assert_no_secret, files_under, load_leftovers
from tests.snowplow.helpers import load_snowplow

SENTINEL_KEY = "SENTINEL-api-key-7c1e"
SENTINEL_KEY_ID = "SENTINEL-key-id-52ab"
SENTINEL_TOKEN = "SENTINEL-token-e94d"
SENTINELS = (SENTINEL_KEY, SENTINEL_KEY_ID, SENTINEL_TOKEN)


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[SnowplowSandbox]:
    counter = itertools.count(1)
    with SnowplowSandbox(
        api_key=SENTINEL_KEY,
        api_key_id=SENTINEL_KEY_ID,
        issue_token=lambda: f"{SENTINEL_TOKEN}-{next(counter)}",
        jobs=_two_jobs(),
    ) as started:
        yield started


def _two_jobs() -> tuple[JobSpec, ...]:
    return DEFAULT_JOBS[1:3]  # the flaky and the failing job: failed steps, so logs too


def test_no_secret_in_logs_errors_state_traces_or_tables(
    sandbox: SnowplowSandbox,
    make_pipeline: Callable[..., Pipeline],
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    load_snowplow(pipeline, sandbox)
    sandbox.expire_tokens()
    echo = f'{{"message": "denied for {SENTINEL_KEY} / {SENTINEL_KEY_ID} with {SENTINEL_TOKEN}-1"}}'
    sandbox.inject("*/jobs/v1/runs*", Fault.status_code(500, body=echo), times=100)
    with pytest.raises(Exception) as failure:  # noqa: PT011 - any failure; its text is what matters
        load_snowplow(pipeline, sandbox)
    sandbox.clear_faults()
    sandbox.inject("*/token*", Fault.status_code(401, body=echo), times=1)
    with pytest.raises(Exception) as auth_failure:  # noqa: PT011
        load_snowplow(pipeline, sandbox)

    assert len(sandbox.issued_tokens) >= 2, "the test must exercise minted tokens"
    assert all_logs, "DEBUG logging must have produced lines to check"
    assert_no_secret(
        SENTINELS,
        load_leftovers(
            pipeline,
            all_logs,
            capfd,
            (failure.value, auth_failure.value),
            tmp_path / "pipelines",
        ),
    )


def test_no_secret_in_cli_output(
    sandbox: SnowplowSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings = SOURCES["snowplow"].sandbox_settings(sandbox)  # the sandbox takes the sentinels
    assert settings["SOURCES__SNOWPLOW__API_KEY"] == SENTINEL_KEY
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    echo = f'{{"message": "bad {SENTINEL_KEY} {SENTINEL_KEY_ID}"}}'
    sandbox.inject("*/token*", Fault.status_code(403, body=echo), times=2)

    assert main(["--log-level", "DEBUG", "check", "--source", "snowplow"]) == 1
    assert main(["--log-level", "DEBUG", "load", "--source", "snowplow"]) == 1

    captured = capfd.readouterr()
    assert "API key rejected" in captured.out
    assert_no_secret(SENTINELS, {"command output": captured.out + captured.err})


UNREGISTERED = "SENTINEL-unregistered-91f0"
"""A credential the vendor sends that jobpulse never registered (another token, a refresh one)."""

TOKEN_ANSWERS = {
    "truncated-json": (200, f'{{"accessToken": "{SENTINEL_TOKEN}-cut'),
    "html-page": (200, f"<html><body><p>token {SENTINEL_TOKEN}-html</p></body></html>"),
    "error-json": (500, f'{{"error": "busy", "accessToken": "{SENTINEL_TOKEN}-500"}}'),
    "rejected": (401, f'{{"message": "expired", "token": "{SENTINEL_TOKEN}-401"}}'),
}

OTHER_ANSWERS = {
    "json": f'{{"message": "denied", "refreshToken": "{UNREGISTERED}", '
    f'"password": "{UNREGISTERED}"}}',
    "truncated-json": f'{{"message": "denied", "session": {{"client_secret": "{UNREGISTERED}',
    "python-repr": f"{{'message': 'denied', 'access_token': '{UNREGISTERED}'}}",
    "html-page": f'<html><a href="/login?access_token={UNREGISTERED}&next=/">again</a></html>',
}


@pytest.fixture
def cli_env(sandbox: SnowplowSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SOURCES["snowplow"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)


def _everything_written(tmp_path: Path, captured: pytest.CaptureFixture[str]) -> str:
    """Output, and every file and the last trace of the pipeline the CLI ran."""
    out = captured.readouterr()
    texts = [out.out, out.err, *files_under(tmp_path / "dlt-data").values()]
    trace = dlt.attach("jobpulse_snowplow").last_trace  # what `dlt pipeline ... trace` shows
    assert trace is not None
    texts += [str(trace), json.dumps(trace.asdict(), default=str)]
    return "\n".join(texts)


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("flow", ["v2", "v3"])
@pytest.mark.parametrize("answer", TOKEN_ANSWERS)
def test_a_token_endpoint_answer_is_never_quoted_anywhere(
    flow: str,
    answer: str,
    sandbox: SnowplowSandbox,
    monkeypatch: pytest.MonkeyPatch,
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    if flow == "v2":
        monkeypatch.delenv("SOURCES__SNOWPLOW__API_KEY_ID")
    status, body = TOKEN_ANSWERS[answer]
    sandbox.inject("*/token*", Fault.status_code(status, body=body), times=100)

    assert main(["load", "--source", "snowplow", "--log-level", "DEBUG"]) == 1

    written = _everything_written(tmp_path, capfd)
    assert "snowplow: FAILED: Snowplow API GET" in written
    assert "(response:" not in written
    assert_no_secret(SENTINELS, {f"{flow} token answer {answer}": written + "\n".join(all_logs)})


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("answer", OTHER_ANSWERS)
def test_a_quoted_answer_is_redacted_of_every_credential_like_value(
    answer: str,
    sandbox: SnowplowSandbox,
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sandbox.inject("*/jobs/v1/runs*", Fault.status_code(403, body=OTHER_ANSWERS[answer]), times=100)

    assert main(["load", "--source", "snowplow", "--log-level", "DEBUG"]) == 1

    written = _everything_written(tmp_path, capfd)
    assert "(response: " in written, "the answer is quoted, so redaction is what is tested"
    places = {"output, files, trace": written, "logs": "\n".join(all_logs)}
    assert_no_secret([*SENTINELS, UNREGISTERED], places)
