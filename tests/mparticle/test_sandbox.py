"""The mParticle sandbox: the document's payloads and errors, paging, tokens, clock moves, v2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pendulum
import pytest
import requests
import time_machine

from jobpulse.sources.mparticle.sandbox import MASKED, MparticleSandbox

DOCUMENTED: dict[str, Any] = json.loads((Path(__file__).parent / "documented.json").read_text())


def token(sandbox: MparticleSandbox) -> str:
    body = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "audience": "https://api.mparticle.com",
        "grant_type": "client_credentials",
    }
    answer = requests.post(f"{sandbox.base_url}/oauth/token", json=body, timeout=5)
    assert answer.status_code == 200
    value: str = answer.json()["access_token"]
    return value


def get(sandbox: MparticleSandbox, path: str, **params: Any) -> requests.Response:
    prefix = f"{sandbox.base_url}/{sandbox.api_path}/workspaces/{sandbox.workspace_id}"
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    return requests.get(
        f"{prefix}/inputs/warehouse/{path}", params=params, headers=headers, timeout=5
    )


@pytest.mark.parametrize(
    ("path", "example"), [("connections", "connections"), ("data-models", "data_models")]
)
def test_documented_example_listings_are_served_verbatim(
    sandbox: MparticleSandbox, path: str, example: str
) -> None:
    assert get(sandbox, path).json() == DOCUMENTED[example]


def test_errors_use_the_documented_body(sandbox: MparticleSandbox) -> None:
    answer = get(sandbox, "pipelines/nope/status")
    assert answer.status_code == 404
    assert answer.json() == {"statusCode": 404, "errors": [{"message": "Pipeline nope not found."}]}


def test_a_wrong_client_secret_gets_no_token(sandbox: MparticleSandbox) -> None:
    body = {"client_id": sandbox.client_id, "client_secret": "wrong", "audience": "x"}
    assert requests.post(f"{sandbox.base_url}/oauth/token", json=body, timeout=5).status_code == 401


def test_api_requests_need_a_live_token(sandbox: MparticleSandbox) -> None:
    url = f"{sandbox.base_url}/{sandbox.api_path}/workspaces/5328/inputs/warehouse/pipelines"
    assert requests.get(url, timeout=5).status_code == 401


@pytest.mark.parametrize(("size", "status"), [(100, 200), (101, 400)])
def test_page_size_is_at_most_100(sandbox: MparticleSandbox, size: int, status: int) -> None:
    assert (
        get(sandbox, "pipelines/example-pipeline/status/runs", pageSize=size).status_code == status
    )


def test_pages_count_from_one_and_start_date_narrows_on_logical_date(
    sandbox: MparticleSandbox,
) -> None:
    path = "pipelines/example-pipeline/status/runs"
    every = get(sandbox, path, pageSize=100).json()["items"]
    first, second = (get(sandbox, path, pageSize=5, currentPage=n).json()["items"] for n in (1, 2))
    assert first + second == every[:10]
    assert get(sandbox, path, currentPage=0).status_code == 400
    since = every[-3]["logical_date"]
    narrowed = get(sandbox, path, pageSize=100, startDate=since).json()["items"]
    assert narrowed == every[-3:]


def test_a_run_moves_through_its_states_and_ends_as_the_clock_advances(
    sandbox: MparticleSandbox, clock: time_machine.Traveller
) -> None:
    logical = "2026-03-02T12:00:00Z"  # created at 13:00:30 and some milliseconds

    def state_at(moment: pendulum.DateTime) -> str | None:
        clock.move_to(moment, tick=False)
        runs = [r for r in sandbox.runs_of("example-pipeline") if r["logical_date"] == logical]
        return runs[0]["pipeline_run_state"] if runs else None

    hour = pendulum.datetime(2026, 3, 2, 13)
    states = [state_at(hour.add(seconds=s)) for s in (0, 35, 65, 120, 3 * 3600)]
    assert states[0] is None
    assert states[1] in ("triggered", "dataset_triggered")
    assert states[2:4] == ["queued", "running"]
    assert states[4] in ("success", "failed")


def test_counts_are_strings_and_audit_times_have_no_zone(sandbox: MparticleSandbox) -> None:
    done = [r for r in sandbox.runs_of("example-pipeline") if r["pipeline_run_state"] == "success"]
    assert done
    assert all(isinstance(r["records_extracted"], str) for r in done)
    assert all(re.fullmatch(r"[\d-]+T[\d:]+(\.\d{1,3})?", r["created_on"]) for r in done)


def test_the_faulted_pipeline_heals_and_the_retired_one_disappears(
    sandbox: MparticleSandbox, clock: time_machine.Traveller
) -> None:
    before = {p["id"]: p for p in get(sandbox, "pipelines").json()}
    assert before["example-pipeline-2"]["is_faulted"] is True
    assert before["example-pipeline-2"]["partner_feed_key"] == MASKED
    clock.shift(2 * 3600)
    after = {p["id"]: p for p in get(sandbox, "pipelines").json()}
    assert after["example-pipeline-2"]["is_faulted"] is False
    assert "retired-pipeline" not in after
    assert get(sandbox, "pipelines/retired-pipeline/status/runs").status_code == 404


def test_v2_spells_health_as_status_and_type_as_service_provider(
    clock: time_machine.Traveller,
) -> None:
    with MparticleSandbox(api_path="platform/v2") as v2:
        (connection, _) = get(v2, "connections").json()
        pipeline = get(v2, "pipelines").json()[1]
        assert "is_faulted" not in connection
        assert connection["status"] == "healthy"
        assert connection["service_provider"] == "Snowflake"
        assert "type" not in connection
        assert pipeline["status"] == "faulted"
        assert get(v2, "pipelines/example-pipeline/status").json()["status"] == "healthy"


def test_the_trigger_answers_as_documented_then_refuses_while_running(
    sandbox: MparticleSandbox,
) -> None:
    url = f"{sandbox.base_url}/{sandbox.api_path}/workspaces/5328/inputs/warehouse"
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    first = requests.post(f"{url}/pipelines/on-demand-pipeline", headers=headers, timeout=5)
    again = requests.post(f"{url}/pipelines/on-demand-pipeline", headers=headers, timeout=5)
    assert first.json() == {"pipeline_run_id": 900_000_001, "status": "trigger_requested"}
    assert (again.status_code, again.json()) == (
        400,
        {
            "statusCode": 400,
            "errors": [{"message": "Pipeline on-demand-pipeline is already in progress."}],
        },
    )
