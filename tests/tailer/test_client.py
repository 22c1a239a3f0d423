"""The Tailer client's requests and answers, one rule at a time (requests-mock)."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock as rm

from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.tailer.client import TailerClient
from jobpulse.sources.tailer.identity import Operation
from tests.tailer.test_records import DOC_RUN

BASE_URL = "https://tailer.example.com"
JWT = "eyJ.test-jwt.signature"
T2T = Operation("000099", "DEV", "table-to-table", "000099_iowa_liquor_prepare_pda")
WORKFLOW = Operation("000099", "DEV", "workflow", "000099-iowa-liquor-load-pda")
IDENTITY = {
    "account": "000099",
    "environment": "DEV",
    "configuration_type": "table-to-table",
    "configuration_id": "000099_iowa_liquor_prepare_pda_DEV",
}


@pytest.fixture
def client() -> TailerClient:
    return TailerClient(BASE_URL, JWT)


def _sent(requests_mock: rm.Mocker) -> dict[str, Any]:
    request = requests_mock.request_history[-1]
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {JWT}"
    assert request.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = request.json()
    return body


def test_get_last_status_posts_the_full_identity_and_a_limit(
    client: TailerClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/dag/status", json={"results": [DOC_RUN]})

    assert client.get_last_status(T2T, limit=1000) == [DOC_RUN]
    assert _sent(requests_mock) == {"action": "get_last_status", **IDENTITY, "limit": 1000}


def test_get_last_status_with_a_day_and_a_status(
    client: TailerClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/dag/status", json={"results": []})
    client.get_last_status(T2T, limit=2, execution_date="2020-12-09", status="SUCCESS")
    body = _sent(requests_mock)
    assert (body["execution_date"], body["status"], body["limit"]) == ("2020-12-09", "SUCCESS", 2)


@pytest.mark.parametrize("limit", [0, 1001])
def test_a_limit_outside_1_to_1000_is_never_sent(
    client: TailerClient, requests_mock: rm.Mocker, limit: int
) -> None:
    with pytest.raises(ValueError, match="limit"):
        client.get_last_status(T2T, limit=limit)
    assert not requests_mock.called


def test_check_run_status_sends_the_job_id_as_given(
    client: TailerClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/dag/status", json={"results": [DOC_RUN]})
    client.check_run_status(T2T, DOC_RUN["job_id"], DOC_RUN["run_id"])
    assert _sent(requests_mock) == {
        "action": "check_run_status",
        **IDENTITY,
        "job_id": "gbq-to-gbq|000099_iowa_liquor_prepare_pda_DEV",
        "run_id": DOC_RUN["run_id"],
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"json": {"results": []}}, []),
        ({"text": ""}, []),
        ({"json": None}, []),
        ({"json": {}}, []),
        ({"json": {"results": None}}, []),
        ({"json": [DOC_RUN]}, [DOC_RUN]),
        ({"json": DOC_RUN}, [DOC_RUN]),
        ({"json": {"results": DOC_RUN}}, [DOC_RUN]),
        ({"json": {"results": [DOC_RUN], "extra": 1}}, [DOC_RUN]),
    ],
)
def test_status_answers_are_read_tolerantly(
    client: TailerClient, requests_mock: rm.Mocker, answer: dict[str, Any], expected: list[Any]
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/dag/status", **answer)
    assert client.get_last_status(T2T, limit=10) == expected


@pytest.mark.parametrize("body", [{"results": "nope"}, {"results": [1, 2]}, "text"])
def test_status_answers_that_are_not_runs_are_payload_errors(
    client: TailerClient, requests_mock: rm.Mocker, body: Any
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/dag/status", json=body)
    with pytest.raises(VendorPayloadError, match=r"POST /v1/dag/status \(get_last_status\)"):
        client.get_last_status(T2T, limit=10)


def test_launch_job_returns_the_run_id(client: TailerClient, requests_mock: rm.Mocker) -> None:
    run_id = "20201230-113940-1fb692b0-3531-4578-9919-acf6fdb0a5b1"
    requests_mock.post(f"{BASE_URL}/v1/dag/launch", json={"run_id": run_id})
    assert client.launch_job(T2T, "2020-12-30") == run_id
    assert _sent(requests_mock) == {
        "action": "launch_job",
        **IDENTITY,
        "execution_date": "2020-12-30",
    }


def test_a_launch_is_sent_once_even_when_the_api_fails(
    client: TailerClient, requests_mock: rm.Mocker
) -> None:
    launch = requests_mock.post(f"{BASE_URL}/v1/dag/launch", status_code=503)
    status = requests_mock.post(f"{BASE_URL}/v1/dag/status", status_code=503)
    with pytest.raises(VendorAPIError, match="HTTP 503"):
        client.launch_job(T2T)
    with pytest.raises(VendorAPIError):
        client.get_last_status(T2T, limit=1)
    assert launch.call_count == 1
    assert status.call_count > 1, "reads are retried"


def test_reset_workflow_status(client: TailerClient, requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{BASE_URL}/v1/workflow/status", json={"code": 200, "data": {}, "message": "ok"}
    )
    client.reset_workflow_status(WORKFLOW)
    assert _sent(requests_mock) == {
        "action": "reset_workflow_status",
        "account": "000099",
        "environment": "DEV",
        "configuration_type": "workflow",
        "configuration_id": "000099-iowa-liquor-load-pda",
    }


@pytest.mark.parametrize(("activated", "archived"), [(False, False), (True, False), (False, True)])
def test_set_configuration_status(
    client: TailerClient, requests_mock: rm.Mocker, activated: bool, archived: bool
) -> None:
    requests_mock.post(f"{BASE_URL}/v1/configuration/status", json={"message": "ok"})
    client.set_configuration_status(T2T, activated=activated, archived=archived)
    assert _sent(requests_mock) == {
        "action": "set_configuration_status",
        "activated": activated,
        "archived": archived,
        **IDENTITY,
    }


def test_a_ko_answer_is_an_error(client: TailerClient, requests_mock: rm.Mocker) -> None:
    requests_mock.post(f"{BASE_URL}/v1/configuration/status", json={"message": "KO"})
    with pytest.raises(VendorPayloadError, match="did not answer ok"):
        client.set_configuration_status(T2T, activated=True, archived=False)


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_jwt_says_how_to_get_a_new_one_without_showing_it(
    client: TailerClient, requests_mock: rm.Mocker, status: int
) -> None:
    requests_mock.post(
        f"{BASE_URL}/v1/dag/status", status_code=status, json={"message": f"bad token {JWT}"}
    )
    with pytest.raises(VendorAuthError) as raised:
        client.get_last_status(T2T, limit=1)
    message = str(raised.value)
    assert "JWT was rejected or has expired" in message
    assert "tailer auth get-token" in message
    assert "SOURCES__TAILER__JWT" in message
    assert f"HTTP {status}" in message
    assert JWT not in message


def test_an_empty_jwt_is_a_configuration_error() -> None:
    with pytest.raises(SourceConfigError, match="SOURCES__TAILER__JWT"):
        TailerClient(BASE_URL, " ")
