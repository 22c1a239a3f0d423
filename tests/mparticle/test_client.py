"""Request shapes and response rules of the mParticle client, one rule per test (requests-mock)."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest
import requests_mock as rm
import time_machine

from jobpulse.sources.mparticle.client import MparticleClient
from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)

BASE = "https://api.example.com"
TOKEN_URL = "https://sso.example.com/oauth/token"
WORKSPACE = "5328"
PREFIX = f"{BASE}/platform/experimental/workspaces/{WORKSPACE}/inputs/warehouse"
RUNS_URL = f"{PREFIX}/pipelines/p1/status/runs"


def make_client(api_path: str = "platform/experimental") -> MparticleClient:
    return MparticleClient(
        base_url=BASE,
        token_url=TOKEN_URL,
        workspace_id=WORKSPACE,
        client_id="cid",
        client_secret="csecret-value",
        api_path=api_path,
    )


@pytest.fixture
def token(requests_mock: rm.Mocker) -> Any:
    return requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": f"tok-{n}", "expires_in": 3600, "token_type": "Bearer"}}
            for n in range(1, 6)
        ],
    )


def runs(first: int, count: int) -> list[dict[str, Any]]:
    return [{"pipeline_run_id": first + n, "id": "p1"} for n in range(count)]


def listed(client: MparticleClient, page_size: int, start: Any = None) -> list[int]:
    pages = client.list_runs("p1", start, page_size)
    return [run["pipeline_run_id"] for page in pages for run in page]


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize("api_path", ["platform/experimental", "platform/v1", "platform/v2"])
def test_every_api_path_builds_the_documented_base_path(
    api_path: str, requests_mock: rm.Mocker
) -> None:
    url = f"{BASE}/{api_path}/workspaces/{WORKSPACE}/inputs/warehouse/pipelines"
    requests_mock.get(url, json=[{"id": "p1"}])

    assert make_client(f"/{api_path}/").list_pipelines() == [{"id": "p1"}]


@pytest.mark.parametrize("api_path", ["platform/v3", "v1", ""])
def test_an_unknown_api_path_is_a_config_error_naming_the_setting(api_path: str) -> None:
    with pytest.raises(SourceConfigError, match="SOURCES__MPARTICLE__API_PATH"):
        make_client(api_path)


def test_the_token_is_requested_with_the_documented_json_body(
    token: Any, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(f"{PREFIX}/connections", json=[])

    make_client().list_connections()

    assert token.request_history[-1].json() == {
        "client_id": "cid",
        "client_secret": "csecret-value",
        "audience": "https://api.mparticle.com",
        "grant_type": "client_credentials",
    }
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer tok-1"


def test_one_token_serves_every_client_of_the_process_until_it_expires(
    token: Any, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(f"{PREFIX}/connections", json=[])
    with time_machine.travel(pendulum.datetime(2026, 3, 2, 12), tick=False) as traveller:
        make_client().list_connections()
        make_client().list_connections()
        assert token.call_count == 1
        traveller.shift(3600)
        make_client().list_connections()
    assert token.call_count == 2
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer tok-2"


def test_a_401_re_mints_once_then_succeeds(token: Any, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{PREFIX}/pipelines", [{"status_code": 401}, {"json": []}])

    assert make_client().list_pipelines() == []
    assert token.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_client_credentials_name_the_settings(
    status: int, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, status_code=status, json={"error": "access_denied"})

    with pytest.raises(VendorAuthError, match="SOURCES__MPARTICLE__CLIENT_SECRET") as raised:
        make_client().list_pipelines()
    assert "csecret-value" not in str(raised.value)


@pytest.mark.usefixtures("token")
def test_429_is_retried_after_retry_after(requests_mock: rm.Mocker, waits: list[float]) -> None:
    limited = {
        "status_code": 429,
        "headers": {"Retry-After": "3", "X-mp-rate-limit-exceeded": "true"},
    }
    requests_mock.get(f"{PREFIX}/pipelines", [limited, {"json": [{"id": "p1"}]}])

    assert make_client().list_pipelines() == [{"id": "p1"}]
    assert waits == [3]


@pytest.mark.usefixtures("token", "waits")
def test_505_is_an_error_naming_the_pipeline_and_the_warehouse(requests_mock: rm.Mocker) -> None:
    requests_mock.get(RUNS_URL, status_code=505)

    with pytest.raises(VendorAPIError) as raised:
        listed(make_client(), 100)

    message = str(raised.value)
    assert "pipeline 'p1'" in message
    assert "could not connect to the warehouse" in message
    assert "HTTP 505" in message


@pytest.mark.usefixtures("token")
def test_runs_are_paged_from_page_0_until_a_short_page(requests_mock: rm.Mocker) -> None:
    pages = {0: runs(1, 2), 1: runs(3, 2), 2: runs(5, 1)}
    requests_mock.get(
        RUNS_URL, json=lambda request, _: {"items": pages[int(request.qs["currentpage"][0])]}
    )

    assert listed(make_client(), 2) == [1, 2, 3, 4, 5]
    assert [r.qs["currentpage"] for r in requests_mock.request_history[1:]] == [["0"], ["1"], ["2"]]
    assert all(r.qs["pagesize"] == ["2"] for r in requests_mock.request_history[1:])


@pytest.mark.usefixtures("token")
def test_an_api_counting_pages_from_1_loses_nothing(requests_mock: rm.Mocker) -> None:
    pages = {0: [], 1: runs(1, 2), 2: runs(3, 1)}
    requests_mock.get(RUNS_URL, json=lambda r, _: {"items": pages[int(r.qs["currentpage"][0])]})

    assert listed(make_client(), 2) == [1, 2, 3]


@pytest.mark.usefixtures("token")
def test_an_api_refusing_page_0_is_listed_again_from_page_1(requests_mock: rm.Mocker) -> None:
    def answer(request: Any, context: Any) -> Any:
        page = int(request.qs["currentpage"][0])
        if page == 0:
            context.status_code = 400
            return {"statusCode": 400, "errors": [{"message": "currentPage must be >= 1"}]}
        return {"items": runs(1, 2) if page == 1 else []}

    requests_mock.get(RUNS_URL, json=answer)

    assert listed(make_client(), 2) == [1, 2]


@pytest.mark.usefixtures("token")
def test_an_api_ignoring_current_page_cannot_make_the_listing_loop(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(RUNS_URL, json={"items": runs(1, 2)})

    assert len(listed(make_client(), 2)) == 6
    assert requests_mock.call_count == 4  # token, pages 0, 1 and 2 (a repeat: the end)


@pytest.mark.usefixtures("token")
def test_start_date_is_sent_as_utc_iso(requests_mock: rm.Mocker) -> None:
    requests_mock.get(RUNS_URL, json={"items": []})

    listed(make_client(), 100, pendulum.datetime(2022, 10, 17, 1, tz="Europe/Paris"))

    assert requests_mock.request_history[-1].qs["startdate"] == ["2022-10-16t23:00:00z"]


@pytest.mark.parametrize("page_size", [0, 101])
def test_page_size_above_100_is_refused_before_any_request(page_size: int) -> None:
    with pytest.raises(SourceConfigError, match="page_size"):
        listed(make_client(), page_size)


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize(
    "body", [[{"id": "p1"}], {"items": [{"id": "p1"}]}, {"pipelines": [{"id": "p1"}]}]
)
def test_listings_are_bare_arrays_or_wrapped(body: Any, requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{PREFIX}/pipelines", json=body)
    assert make_client().list_pipelines() == [{"id": "p1"}]


@pytest.mark.usefixtures("token")
def test_a_pipeline_without_id_is_a_payload_error_without_its_credentials(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(f"{PREFIX}/pipelines", json=[{"name": "x", "partner_feed_key": "feedkey9"}])

    with pytest.raises(VendorPayloadError, match="has no id") as raised:
        make_client().list_pipelines()
    assert "feedkey9" not in str(raised.value)


@pytest.mark.usefixtures("token")
def test_a_wrong_workspace_or_path_is_explained(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{PREFIX}/pipelines", status_code=404, text="not found")

    with pytest.raises(VendorAPIError, match="SOURCES__MPARTICLE__WORKSPACE_ID and API_PATH"):
        make_client().list_pipelines()


@pytest.mark.usefixtures("token")
def test_the_trigger_is_a_post_without_body(requests_mock: rm.Mocker) -> None:
    trigger = requests_mock.post(
        f"{PREFIX}/pipelines/p1", json={"pipeline_run_id": 13325, "status": "trigger_requested"}
    )

    assert make_client().trigger("p1") == {"pipeline_run_id": 13325, "status": "trigger_requested"}
    assert trigger.request_history[-1].body is None


@pytest.mark.usefixtures("token")
def test_a_refused_trigger_is_not_retried(requests_mock: rm.Mocker) -> None:
    body = {"statusCode": 400, "errors": [{"message": "Pipeline p1 is already in progress."}]}
    trigger = requests_mock.post(f"{PREFIX}/pipelines/p1", status_code=400, json=body)

    with pytest.raises(VendorAPIError) as raised:
        make_client().trigger("p1")

    assert raised.value.status == 400
    assert json.loads(raised.value.body) == body
    assert trigger.call_count == 1
