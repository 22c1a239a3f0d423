"""The Tailer sandbox: documented endpoints and payloads, filters, ids, errors, a moving clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
import requests
import time_machine

from jobpulse.sources.tailer.sandbox import DEFAULT_JWT, TailerSandbox
from tests.tailer.helpers import SMALL_OPERATIONS, STORAGE_TO_STORAGE, TABLE_TO_TABLE, WORKFLOW
from tests.tailer.test_records import DOC_RUN


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[TailerSandbox]:
    with TailerSandbox(operations=SMALL_OPERATIONS) as started:
        yield started


def post(sandbox: TailerSandbox, path: str, body: dict[str, Any], jwt: str = DEFAULT_JWT) -> Any:
    return requests.post(
        f"{sandbox.base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {jwt}"},
        timeout=5,
    )


def identity(spec: Any) -> dict[str, str]:
    return {
        "account": spec.account,
        "environment": spec.environment,
        "configuration_type": spec.configuration_type,
        "configuration_id": spec.configuration_id,
    }


def last(sandbox: TailerSandbox, spec: Any, **extra: Any) -> list[dict[str, Any]]:
    body = {"action": "get_last_status", **identity(spec), **extra}
    response = post(sandbox, "/v1/dag/status", body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_runs_have_the_documented_fields_newest_first(sandbox: TailerSandbox) -> None:
    runs = last(sandbox, TABLE_TO_TABLE, limit=3)
    assert len(runs) == 3
    assert set(runs[0]) == set(DOC_RUN)
    assert runs[0]["configuration_type"] == "gbq-to-gbq"
    assert runs[0]["job_id"] == "gbq-to-gbq|000099_iowa_liquor_prepare_pda_DEV"
    starts = [run["start_execution_date"] for run in runs]
    assert starts == sorted(starts, reverse=True)


def test_table_to_table_ids_are_known_only_with_the_environment_suffix(
    sandbox: TailerSandbox,
) -> None:
    without = {**identity(TABLE_TO_TABLE), "configuration_id": "000099_iowa_liquor_prepare_pda"}
    response = post(sandbox, "/v1/dag/status", {"action": "get_last_status", **without})
    assert response.json() == {"results": []}


def test_storage_runs_start_on_whole_seconds_in_pairs_without_last_update(
    sandbox: TailerSandbox,
) -> None:
    runs = last(sandbox, STORAGE_TO_STORAGE, limit=4)
    assert all("last_update_date" not in run for run in runs)
    assert all(run["start_execution_date"].endswith(":18+00:00") for run in runs)
    assert runs[0]["start_execution_date"] == runs[1]["start_execution_date"]
    assert runs[0]["run_id"] != runs[1]["run_id"]
    day, rest = runs[0]["run_id"].split("-", 1)
    assert day == runs[0]["start_execution_date"][:10].replace("-", "")
    assert len(rest) == 36  # a UUID


def test_limit_status_and_execution_date_are_honoured(sandbox: TailerSandbox) -> None:
    day = pendulum.now("UTC").subtract(days=2).to_date_string()
    of_day = last(sandbox, TABLE_TO_TABLE, execution_date=day, limit=1000)
    assert len(of_day) == 12  # every two hours
    assert all(run["start_execution_date"].startswith(day) for run in of_day)
    assert last(sandbox, TABLE_TO_TABLE, execution_date=day, limit=5) == of_day[:5]
    succeeded = last(sandbox, TABLE_TO_TABLE, execution_date=day, status="SUCCESS", limit=1000)
    assert succeeded == [run for run in of_day if run["status"] == "SUCCESS"]


def test_a_limit_above_1000_is_refused(sandbox: TailerSandbox) -> None:
    body = {"action": "get_last_status", **identity(TABLE_TO_TABLE), "limit": 1001}
    response = post(sandbox, "/v1/dag/status", body)
    assert response.status_code == 400
    assert "limit" in response.json()["message"]


def test_statuses_include_checked_and_no_match_and_a_run_longer_than_a_day(
    sandbox: TailerSandbox,
) -> None:
    runs = last(sandbox, WORKFLOW, limit=60) + last(sandbox, TABLE_TO_TABLE, limit=200)
    statuses = {run["status"] for run in runs}
    assert {"SUCCESS", "FAILED", "Checked", "No match", "RUNNING"} <= statuses
    assert any(" day" in (run["duration"] or "") for run in runs)


def test_a_running_run_ends_as_the_clock_advances(
    sandbox: TailerSandbox, clock: time_machine.Traveller
) -> None:
    (running,) = [run for run in last(sandbox, WORKFLOW, limit=3) if run["status"] == "RUNNING"]
    assert running["duration"] is None
    clock.shift(2 * 86400)
    body = {
        "action": "check_run_status",
        **identity(WORKFLOW),
        "job_id": running["job_id"],
        "run_id": running["run_id"],
    }
    (checked,) = post(sandbox, "/v1/dag/status", body).json()["results"]
    assert checked["status"] in {"SUCCESS", "FAILED", "Checked", "No match"}
    assert checked["duration"].startswith("1 day, ")


def test_check_run_status_echoes_the_request_type_and_needs_the_exact_job_id(
    sandbox: TailerSandbox,
) -> None:
    run = last(sandbox, TABLE_TO_TABLE, limit=1)[0]
    body = {"action": "check_run_status", **identity(TABLE_TO_TABLE), "run_id": run["run_id"]}
    (checked,) = post(sandbox, "/v1/dag/status", {**body, "job_id": run["job_id"]}).json()[
        "results"
    ]
    assert checked["configuration_type"] == "table-to-table"
    wrong = post(sandbox, "/v1/dag/status", {**body, "job_id": "gbq-to-gbq|other"}).json()
    assert wrong == {"results": []}


def test_launch_then_the_run_is_listed_running_then_terminal(
    clock: time_machine.Traveller,
) -> None:
    with TailerSandbox(
        operations=SMALL_OPERATIONS, launch_status="FAILED", launch_seconds=30
    ) as sandbox:
        response = post(
            sandbox, "/v1/dag/launch", {"action": "launch_job", **identity(TABLE_TO_TABLE)}
        )
        run_id = response.json()["run_id"]
        assert last(sandbox, TABLE_TO_TABLE, limit=1)[0]["run_id"] == run_id
        assert last(sandbox, TABLE_TO_TABLE, limit=1)[0]["status"] == "RUNNING"
        clock.shift(60)
        assert last(sandbox, TABLE_TO_TABLE, limit=1)[0]["status"] == "FAILED"


def test_reset_and_configuration_status_answer_as_documented(sandbox: TailerSandbox) -> None:
    reset = post(
        sandbox, "/v1/workflow/status", {"action": "reset_workflow_status", **identity(WORKFLOW)}
    )
    assert reset.json() == {"code": 200, "data": {}, "message": "ok"}
    body = {"action": "set_configuration_status", "activated": False, "archived": True}
    changed = post(sandbox, "/v1/configuration/status", {**body, **identity(TABLE_TO_TABLE)})
    assert changed.json() == {"message": "ok"}
    assert sandbox.configuration_status[TABLE_TO_TABLE.key] == {
        "activated": False,
        "archived": True,
    }


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/dag/status", {"action": "launch_job"}, 400),
        ("/v1/dag/status", {"action": "get_last_status", "account": "000099"}, 400),
        ("/v1/workflow/status", {"action": "reset_workflow_status"}, 400),
        ("/v1/nowhere", {"action": "get_last_status"}, 404),
    ],
)
def test_wrong_requests_get_the_error_body(
    sandbox: TailerSandbox, path: str, body: dict[str, Any], status: int
) -> None:
    response = post(sandbox, path, body)
    assert response.status_code == status
    assert set(response.json()) == {"code", "data", "message"}


def test_a_wrong_jwt_is_401(sandbox: TailerSandbox) -> None:
    body = {"action": "get_last_status", **identity(TABLE_TO_TABLE)}
    response = post(sandbox, "/v1/dag/status", body, jwt="expired")
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_history_is_deterministic(clock: time_machine.Traveller) -> None:
    with TailerSandbox(operations=SMALL_OPERATIONS) as first:
        runs = last(first, TABLE_TO_TABLE, limit=20)
    with TailerSandbox(operations=SMALL_OPERATIONS) as second:
        again = last(second, TABLE_TO_TABLE, limit=20)
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in again]
