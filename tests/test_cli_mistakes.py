"""Each plain mistake gets one clear line and a non-zero exit code, never a traceback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox

LOAD = ["load", "--source", "snowplow", "--quiet", "--no-models"]


@pytest.fixture
def snowplow_env(monkeypatch: pytest.MonkeyPatch, snowplow_sandbox: SnowplowSandbox) -> None:
    for key, value in SOURCES["snowplow"].sandbox_settings(snowplow_sandbox).items():
        monkeypatch.setenv(key, value)


def _run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code (argparse's SystemExit included) and everything printed."""
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, text


def test_an_unknown_destination_lists_the_installed_ones(
    capfd: pytest.CaptureFixture[str],
) -> None:
    code, text = _run([*LOAD, "--destination", "duckbd"], capfd)
    assert code == 2
    assert "destination 'duckbd': unknown name; installed destinations:" in text
    for installed in ("duckdb", "postgres", "filesystem"):
        assert installed in text.split("installed destinations:")[1]


@pytest.mark.parametrize(
    ("dataset", "reason"),
    [
        ("My Data-Set", "dlt would store dataset 'My Data-Set' as 'my_data_set'"),
        ("", "the dataset name is empty"),
    ],
)
def test_a_dataset_name_dlt_would_rewrite_is_refused_with_the_reason(
    dataset: str, reason: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code, text = _run([*LOAD, "--dataset", dataset], capfd)
    assert code == 2
    assert reason in text


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_sandbox_port_out_of_range_is_refused(
    port: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code, text = _run(["sandbox", "--port", port], capfd)
    assert code == 2
    assert "argument --port:" in text


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_sandbox_port_in_use_says_so_in_one_line(
    taken_port: int, capfd: pytest.CaptureFixture[str]
) -> None:
    code, text = _run(["sandbox", "--port", str(taken_port)], capfd)
    assert code == 2
    assert text.strip() == (
        f"jobpulse sandbox: cannot listen on 127.0.0.1, port {taken_port} and the next ones: "
        "Address already in use; choose another --port, or 0 for free ports"
    )


BAD_SETTINGS = [
    ("SOURCES__SNOWPLOW__WINDOW_HOURS", "twelve", "not a valid whole number"),
    ("SOURCES__SNOWPLOW__WINDOW_HOURS", "500", "window_hours must be 1 to 96"),
    ("SOURCES__SNOWPLOW__LOG_MAX_BYTES", "1.5", "not a valid whole number"),
    ("RUNTIME__REQUEST_MAX_ATTEMPTS", "five", "not a valid whole number"),
    ("RUNTIME__REQUEST_MAX_ATTEMPTS", "0", "must be a whole number at least 1"),
    ("RUNTIME__REQUEST_TIMEOUT", "0", "must be a number above 0"),
    ("RUNTIME__REQUEST_BACKOFF_FACTOR", "-1", "must be a number at least 0"),
    ("EXTRACT__WORKERS", "many", "must be a whole number at least 1"),
]


@pytest.mark.usefixtures("snowplow_env")
@pytest.mark.parametrize("command", ["load", "check"])
@pytest.mark.parametrize(("setting", "value", "problem"), BAD_SETTINGS)
def test_a_bad_setting_is_named_with_its_value_by_load_and_by_check(
    command: str,
    setting: str,
    value: str,
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(setting, value)
    code, text = _run([command, "--source", "snowplow"], capfd)
    assert code != 0
    assert problem in text
    if "window_hours must" not in problem:  # the source's own range check names its field
        assert f"{setting} = {value!r}" in text


@pytest.mark.usefixtures("snowplow_env")
@pytest.mark.parametrize("command", ["load", "check"])
def test_a_base_url_without_a_scheme_names_the_base_url_setting(
    command: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__SNOWPLOW__BASE_URL", "console.snowplowanalytics.com")
    code, text = _run([command, "--source", "snowplow"], capfd)
    assert code != 0
    assert (
        "SOURCES__SNOWPLOW__BASE_URL = 'console.snowplowanalytics.com' is not an http(s) URL"
        in text
    )


@pytest.mark.usefixtures("snowplow_env")
@pytest.mark.parametrize("command", ["load", "check"])
def test_a_base_url_whose_path_is_wrong_says_to_check_the_base_url_not_the_organisation(
    command: str, snowplow_sandbox: SnowplowSandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    # What a wrong path on a real web server answers: its own HTML page.
    snowplow_sandbox.inject("*", Fault.status_code(404, body="<html><h1>Not Found</h1></html>"))
    code, text = _run([command, "--source", "snowplow"], capfd)
    assert code == 1
    assert (
        "not found, and the answer is not the API's JSON: check SOURCES__SNOWPLOW__BASE_URL" in text
    )
    assert "organization not found" not in text


@pytest.mark.usefixtures("snowplow_env")
@pytest.mark.parametrize("command", ["load", "check"])
def test_an_unreachable_host_is_named_with_how_long_it_was_retried_and_each_retry_shown(
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SOURCES__SNOWPLOW__BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    code, text = _run([command, "--source", "snowplow"], capfd)
    assert code == 1
    assert f"could not reach 127.0.0.1:{port} (ConnectionError); retried for " in text
    assert "check SOURCES__SNOWPLOW__BASE_URL and the network" in text
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for attempt in (1, 2):  # dlt's logger shows warnings on stderr as they happen
        assert (
            f"Snowplow API 127.0.0.1:{port}: ConnectionError on attempt {attempt}; retrying in"
            in ("\n".join(warnings))
        )


def test_version_prints_the_installed_version(capfd: pytest.CaptureFixture[str]) -> None:
    code, text = _run(["--version"], capfd)
    assert code == 0
    assert text.strip() == "jobpulse 0.1.0"


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-level", "DEBUG", "check", "--source", "snowplow"],
        ["check", "--source", "snowplow", "--log-level", "DEBUG"],
    ],
    ids=["before-the-command", "after-the-command"],
)
def test_log_level_is_accepted_before_and_after_the_command(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "WARNING")
    _run(argv, capfd)  # fails: no settings; the level is what matters
    assert os.environ["RUNTIME__LOG_LEVEL"] == "DEBUG"
