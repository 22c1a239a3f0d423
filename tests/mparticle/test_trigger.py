"""`jobpulse mparticle trigger PIPELINE_ID [--wait] [--timeout]` against the sandbox."""

from __future__ import annotations

import time

import pytest
import time_machine

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.mparticle.sandbox import MparticleSandbox
from jobpulse.sources.shared.sandbox import Fault


@pytest.fixture
def env(sandbox: MparticleSandbox, monkeypatch: pytest.MonkeyPatch) -> MparticleSandbox:
    for key, value in SOURCES["mparticle"].sandbox_settings(sandbox).items():
        monkeypatch.setenv(key, value)
    return sandbox


@pytest.fixture
def sleeps(clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each wait moves the clock of jobpulse and the sandbox instead of sleeping."""
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.shift(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return waited


def trigger_posts(sandbox: MparticleSandbox, pipeline_id: str) -> int:
    return sum(
        1 for r in sandbox.requests if r.method == "POST" and r.path.endswith(f"/{pipeline_id}")
    )


def test_trigger_without_wait_reports_the_new_run(
    env: MparticleSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mparticle", "trigger", "on-demand-pipeline"]) == 0

    out = capsys.readouterr().out
    assert "pipeline on-demand-pipeline: run 900000001 triggered (trigger_requested)" in out
    (post,) = [r for r in env.requests if r.method == "POST" and "/pipelines/" in r.path]
    assert post.json is None


@pytest.mark.parametrize(
    ("pipeline_id", "code", "ending"),
    [("on-demand-pipeline", 0, "ended: success"), ("on-demand-failing", 1, "ended: failed")],
)
def test_trigger_wait_exits_0_on_success_and_1_on_failure(
    env: MparticleSandbox,
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    pipeline_id: str,
    code: int,
    ending: str,
) -> None:
    assert main(["mparticle", "trigger", pipeline_id, "--wait", "--poll-interval", "30"]) == code

    assert ending in capsys.readouterr().out
    assert sleeps
    assert all(seconds <= 30 for seconds in sleeps)


def test_trigger_wait_exits_2_when_the_run_outlasts_the_timeout(
    env: MparticleSandbox, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["mparticle", "trigger", "on-demand-pipeline", "--wait", "--timeout", "60"]

    assert main([*command, "--poll-interval", "20"]) == 2

    assert "still" in capsys.readouterr().out
    assert 50 < sum(sleeps) <= 60  # the clock ticks on while requests are answered


def test_already_in_progress_is_reported_plainly_not_retried_and_exits_non_zero(
    env: MparticleSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mparticle", "trigger", "on-demand-pipeline"]) == 0

    assert main(["mparticle", "trigger", "on-demand-pipeline", "--wait"]) == 3

    out = capsys.readouterr().out
    assert "not triggered: Pipeline on-demand-pipeline is already in progress." in out
    assert trigger_posts(env, "on-demand-pipeline") == 2


def test_a_missing_pipeline_exits_non_zero(
    env: MparticleSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mparticle", "trigger", "no-such-pipeline"]) == 3
    assert "pipeline no-such-pipeline not found" in capsys.readouterr().out


def test_a_rate_limited_trigger_is_retried(
    env: MparticleSandbox, waits: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    env.inject("*/on-demand-pipeline", Fault.status_code(429, headers={"Retry-After": "1"}))

    assert main(["mparticle", "trigger", "on-demand-pipeline"]) == 0
    assert waits == [1]


def test_trigger_without_settings_says_which_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mparticle", "trigger", "p"]) == 3
    assert "workspace_id" in capsys.readouterr().out.lower()
