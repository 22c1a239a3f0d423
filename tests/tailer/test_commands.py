"""`jobpulse tailer launch|status|reset-workflow|set-status` against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import time_machine

from jobpulse.pipelines import tailer_commands
from jobpulse.pipelines.cli import main
from jobpulse.sources.tailer.sandbox import TailerSandbox
from tests.tailer.helpers import SMALL_OPERATIONS, TABLE_TO_TABLE, WORKFLOW, actions

T2T_FLAGS = [
    "--account", "000099", "--environment", "DEV",
    "--configuration-type", "table-to-table",
    "--configuration-id", "000099_iowa_liquor_prepare_pda",
]  # fmt: skip
WORKFLOW_FLAGS = [
    "--account", "000099", "--environment", "DEV",
    "--configuration-type", "workflow", "--configuration-id", "000099-iowa-liquor-load-pda",
]  # fmt: skip


@pytest.fixture
def sandbox(
    clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TailerSandbox]:
    monkeypatch.setattr(tailer_commands, "FIRST_POLL_SECONDS", 0.05)
    with TailerSandbox(operations=SMALL_OPERATIONS, launch_seconds=60) as started:
        monkeypatch.setenv("SOURCES__TAILER__BASE_URL", started.base_url)
        monkeypatch.setenv("SOURCES__TAILER__JWT", started.jwt)
        yield started


def test_launch_prints_the_run_id_and_sends_the_suffixed_id(
    sandbox: TailerSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tailer", "launch", *T2T_FLAGS, "--execution-date", "2026-03-01"]) == 0

    run_id = capsys.readouterr().out.strip()
    assert [body["action"] for body in actions(sandbox)] == ["launch_job"]
    (launch,) = actions(sandbox)
    assert launch["configuration_id"] == TABLE_TO_TABLE.configuration_id
    assert launch["execution_date"] == "2026-03-01"
    assert run_id == sandbox.launched[TABLE_TO_TABLE.key][0].run_id


@pytest.mark.parametrize(("outcome", "code"), [("SUCCESS", 0), ("FAILED", 1), ("Checked", 1)])
def test_launch_wait_polls_until_terminal_and_exits_by_outcome(
    sandbox: TailerSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outcome: str,
    code: int,
) -> None:
    sandbox.launch_status = outcome
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # the run's minute passes while the command waits
        pauses.append(seconds)
        sandbox.clock.advance(120)

    monkeypatch.setattr("jobpulse.pipelines.tailer_commands.time.sleep", pause)

    assert main(["tailer", "launch", *T2T_FLAGS, "--wait"]) == code
    assert pauses == [0.05]

    captured = capsys.readouterr()
    run_id = captured.out.strip()
    assert "RUNNING" in captured.err, "progress on stderr while it runs"
    assert f"run {run_id}: {outcome}" in captured.err
    checks = [body for body in actions(sandbox) if body["action"] == "check_run_status"]
    assert checks
    assert {body["job_id"] for body in checks} == {TABLE_TO_TABLE.job_id}


def test_launch_wait_gives_up_with_exit_2_after_the_timeout(
    sandbox: TailerSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.launch_seconds = 3600
    assert main(["tailer", "launch", *T2T_FLAGS, "--wait", "--timeout", "0.2"]) == 2
    assert "gave up" in capsys.readouterr().err


def test_status_prints_the_last_runs_as_json(
    sandbox: TailerSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tailer", "status", *T2T_FLAGS, "--limit", "3", "--status", "SUCCESS"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert 1 <= len(results) <= 3
    assert {run["status"] for run in results} == {"SUCCESS"}
    (body,) = actions(sandbox)
    assert (body["limit"], body["status"]) == (3, "SUCCESS")


def test_status_of_one_run_checks_it(
    sandbox: TailerSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["tailer", "status", *T2T_FLAGS, "--limit", "1"])
    (run,) = json.loads(capsys.readouterr().out)["results"]

    assert main(["tailer", "status", *T2T_FLAGS, "--run-id", run["run_id"]]) == 0

    (checked,) = json.loads(capsys.readouterr().out)["results"]
    assert checked["run_id"] == run["run_id"]
    assert actions(sandbox)[-1]["action"] == "check_run_status"


def test_reset_workflow(sandbox: TailerSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tailer", "reset-workflow", *WORKFLOW_FLAGS]) == 0
    assert sandbox.workflow_resets == [WORKFLOW.key]
    assert "reset" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--no-activated", "--no-archived"], {"activated": False, "archived": False}),
        (["--activated", "--no-archived"], {"activated": True, "archived": False}),
        (["--no-activated", "--archived"], {"activated": False, "archived": True}),
    ],
)
def test_set_status(sandbox: TailerSandbox, flags: list[str], expected: dict[str, bool]) -> None:
    assert main(["tailer", "set-status", *T2T_FLAGS, *flags]) == 0
    assert sandbox.configuration_status[TABLE_TO_TABLE.key] == expected


def test_set_status_requires_both_flags(sandbox: TailerSandbox) -> None:
    with pytest.raises(SystemExit):
        main(["tailer", "set-status", *T2T_FLAGS, "--activated"])
    assert not sandbox.requests


def test_a_rejected_jwt_explains_itself_and_exits_1(
    sandbox: TailerSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__TAILER__JWT", "an-expired-jwt-value")
    assert main(["tailer", "launch", *T2T_FLAGS]) == 1
    captured = capsys.readouterr()
    assert "tailer auth get-token" in captured.err
    assert "an-expired-jwt-value" not in captured.out + captured.err
    assert not sandbox.launched
