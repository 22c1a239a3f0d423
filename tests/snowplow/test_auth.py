"""Snowplow's token exchange (v2, v3), bearer use, re-mint on 401, errors naming the setting."""

from __future__ import annotations

import re

import pytest
import requests_mock as rm

from jobpulse.sources.shared.errors import (
    SourceError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.snowplow.auth import SnowplowTokenAuth
from jobpulse.sources.snowplow.client import SnowplowClient

BASE_URL = "https://console.example.com"
ORG = "0f7c2d4e-8a1b-4c3d-9e5f-6a7b8c9d0e1f"
# Sentinels: if either shows up in a message, it leaked.
API_KEY = "sentinel-api-key-Zq81vX"
API_KEY_ID = "sentinel-key-id-Mw27pR"
ORG_URL = f"{BASE_URL}/api/msc/v1/organizations/{ORG}"
TOKEN_URL = {"v2": f"{ORG_URL}/credentials/v2/token", "v3": f"{ORG_URL}/credentials/v3/token"}
RUN_URL = f"{ORG_URL}/jobs/v1/runs/run-1"
RUN = {"runId": "run-1", "state": "SUCCEEDED"}
MAX_ATTEMPTS = 4  # not dlt's default (5), so the tests show the setting is honoured
FLOWS = ["v2", "v3"]


@pytest.fixture(autouse=True)
def max_attempts(monkeypatch: pytest.MonkeyPatch) -> int:
    """dlt reads its retry settings when a client is built, so this runs before every client."""
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    return MAX_ATTEMPTS


def make_client(flow: str = "v2") -> SnowplowClient:
    return SnowplowClient(BASE_URL, ORG, API_KEY, API_KEY_ID if flow == "v3" else None)


def mock_token(m: rm.Mocker, flow: str = "v2", *tokens: str) -> rm.adapter._Matcher:
    responses = [{"json": {"accessToken": token}} for token in tokens or ("token-1",)]
    return m.get(TOKEN_URL[flow], responses)


def requests_to(m: rm.Mocker, url: str) -> list[rm.request._RequestObjectProxy]:
    return [r for r in m.request_history if r.url.split("?")[0] == url]


def origin_of(url: str) -> str:
    """`https://host` of `url`; a URL that is not https fails the test."""
    origin = re.match(r"https://[^/]+", url)
    assert origin is not None, url
    return origin[0]


# --- the two flows ----------------------------------------------------------------------------


@pytest.mark.parametrize("flow", FLOWS)
def test_the_token_exchange_sends_the_key_headers_of_its_flow_to_its_endpoint(
    requests_mock: rm.Mocker, flow: str
) -> None:
    other = "v3" if flow == "v2" else "v2"
    mock_token(requests_mock, flow)
    other_endpoint = mock_token(requests_mock, other)
    client = make_client(flow)

    client.mint_token()

    assert client.auth.flow == flow
    (sent,) = requests_to(requests_mock, TOKEN_URL[flow])
    assert sent.headers["X-API-Key"] == API_KEY
    if flow == "v3":
        assert sent.headers["X-API-Key-ID"] == API_KEY_ID
    else:
        assert "X-API-Key-ID" not in sent.headers
    assert "Authorization" not in sent.headers
    assert not other_endpoint.called


@pytest.mark.parametrize("flow", FLOWS)
def test_the_access_token_is_sent_as_a_bearer_header_and_the_key_is_not(
    requests_mock: rm.Mocker, flow: str
) -> None:
    mock_token(requests_mock, flow, "minted-access-token")
    requests_mock.get(RUN_URL, json=RUN)

    assert make_client(flow).get_run("run-1") == RUN

    (sent,) = requests_to(requests_mock, RUN_URL)
    assert sent.headers["Authorization"] == "Bearer minted-access-token"
    assert "X-API-Key" not in sent.headers
    assert "X-API-Key-ID" not in sent.headers


@pytest.mark.parametrize("key", ["access_token", "token"])
def test_snake_case_and_plain_token_keys_are_accepted_too(
    requests_mock: rm.Mocker, key: str
) -> None:
    requests_mock.get(TOKEN_URL["v2"], json={key: "other-shape-token"})
    requests_mock.get(RUN_URL, json=RUN)

    make_client().get_run("run-1")

    assert requests_to(requests_mock, RUN_URL)[0].headers["Authorization"] == (
        "Bearer other-shape-token"
    )


def test_the_token_is_minted_once_for_many_requests(requests_mock: rm.Mocker) -> None:
    token = mock_token(requests_mock)
    requests_mock.get(RUN_URL, json=RUN)
    client = make_client()

    for _ in range(3):
        client.get_run("run-1")

    assert token.call_count == 1


# --- token endpoint errors --------------------------------------------------------------------


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("status", [401, 403])
def test_token_endpoint_401_and_403_say_the_api_key_was_rejected_and_name_the_setting(
    requests_mock: rm.Mocker, status: int, flow: str
) -> None:
    token = requests_mock.get(TOKEN_URL[flow], status_code=status, text="denied")
    jobs = requests_mock.get(RUN_URL, json=RUN)

    with pytest.raises(VendorAuthError) as raised:
        make_client(flow).get_run("run-1")

    message = str(raised.value)
    assert "API key rejected" in message
    assert "SOURCES__SNOWPLOW__API_KEY" in message
    assert flow in message
    if flow == "v3":
        assert "API_KEY_ID" in message
    assert raised.value.status == status
    assert raised.value.retryable is False
    assert token.call_count == 1
    assert not jobs.called


@pytest.mark.parametrize("flow", FLOWS)
def test_token_endpoint_404_says_the_organization_was_not_found(
    requests_mock: rm.Mocker, flow: str
) -> None:
    requests_mock.get(TOKEN_URL[flow], status_code=404, json={"message": "no such org"})

    with pytest.raises(VendorAuthError) as raised:
        make_client(flow).mint_token()

    message = str(raised.value)
    assert "organization not found" in message
    assert ORG in message
    assert "SOURCES__SNOWPLOW__ORGANIZATION_ID" in message
    assert raised.value.status == 404


@pytest.mark.parametrize("body", ["<html><h1>404 Not Found</h1></html>", ""])
def test_token_endpoint_404_that_is_not_the_apis_json_says_to_check_the_base_url(
    requests_mock: rm.Mocker, body: str
) -> None:
    requests_mock.get(TOKEN_URL["v3"], status_code=404, text=body)

    with pytest.raises(VendorAPIError) as raised:
        make_client("v3").mint_token()

    message = str(raised.value)
    assert "check SOURCES__SNOWPLOW__BASE_URL" in message
    assert "organization not found" not in message


BODY_MARKER = "body-marker-4417"


@pytest.mark.parametrize(
    "payload",
    [
        {"message": BODY_MARKER},
        {"accessToken": "", "message": BODY_MARKER},
        {"accessToken": None, "message": BODY_MARKER},
        {"accessToken": 4417, "message": BODY_MARKER},
        {"accessToken": [BODY_MARKER]},
        {"data": {"accessToken": BODY_MARKER}},
        [BODY_MARKER],
        BODY_MARKER,
    ],
    ids=["no-key", "empty", "null", "number", "list", "nested", "array", "string"],
)
def test_a_token_response_without_an_access_token_raises_a_payload_error_without_the_body(
    requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(TOKEN_URL["v2"], json=payload)

    with pytest.raises(VendorPayloadError) as raised:
        make_client().mint_token()

    message = str(raised.value)
    assert "accessToken" in message
    assert "/credentials/v2/token" in message
    assert BODY_MARKER not in message
    assert "4417" not in message


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_from_the_token_endpoint_is_not_followed(
    requests_mock: rm.Mocker, status: int
) -> None:
    elsewhere = requests_mock.get("https://collector.elsewhere.example/steal", json={})
    requests_mock.get(
        TOKEN_URL["v3"],
        status_code=status,
        headers={"Location": "https://collector.elsewhere.example/steal"},
    )

    with pytest.raises(VendorAPIError) as raised:
        make_client("v3").mint_token()

    assert not elsewhere.called
    assert raised.value.status == status
    assert "not followed" in str(raised.value)


# --- 401 on a jobs endpoint -------------------------------------------------------------------


def test_a_401_on_a_jobs_endpoint_re_mints_once_and_the_retried_request_succeeds(
    requests_mock: rm.Mocker,
) -> None:
    token = mock_token(requests_mock, "v2", "token-1", "token-2")
    requests_mock.get(RUN_URL, [{"status_code": 401}, {"status_code": 200, "json": RUN}])

    assert make_client().get_run("run-1") == RUN

    assert token.call_count == 2
    sent = [r.headers["Authorization"] for r in requests_to(requests_mock, RUN_URL)]
    assert sent == ["Bearer token-1", "Bearer token-2"]


def test_a_second_401_after_the_re_mint_raises_an_auth_error_after_two_token_requests(
    requests_mock: rm.Mocker,
) -> None:
    token = mock_token(requests_mock, "v2", "token-1", "token-2", "token-3")
    jobs = requests_mock.get(RUN_URL, status_code=401, text="token expired")

    with pytest.raises(VendorAuthError) as raised:
        make_client().get_run("run-1")

    assert raised.value.status == 401
    assert "/jobs/v1/runs/run-1" in str(raised.value)
    assert token.call_count == 2
    assert jobs.call_count == 2


# --- secrets in messages ----------------------------------------------------------------------

ECHOING_BODY = f'{{"error": "invalid key {API_KEY} (id {API_KEY_ID})"}}'


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 503])
def test_the_api_key_never_appears_in_a_raised_message(
    requests_mock: rm.Mocker, waits: list[float], status: int
) -> None:
    requests_mock.get(TOKEN_URL["v3"], status_code=status, text=ECHOING_BODY)
    client = make_client("v3")

    with pytest.raises(SourceError) as raised:
        client.get_run("run-1")

    for text in (str(raised.value), repr(raised.value), repr(raised.value.args)):
        assert API_KEY not in text
        assert API_KEY_ID not in text


def test_the_api_key_never_appears_in_a_payload_error_echoing_it(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(TOKEN_URL["v3"], text=f"<html>{API_KEY} {API_KEY_ID}</html>")

    with pytest.raises(VendorPayloadError) as raised:
        make_client("v3").mint_token()

    assert API_KEY not in str(raised.value)
    assert API_KEY_ID not in str(raised.value)


def test_the_access_token_never_appears_in_a_raised_message(requests_mock: rm.Mocker) -> None:
    mock_token(requests_mock, "v2", "minted-token-Hk93", "minted-token-Hk94")
    requests_mock.get(
        RUN_URL, status_code=401, text="rejected bearer minted-token-Hk93 / minted-token-Hk94"
    )

    with pytest.raises(VendorAuthError) as raised:
        make_client().get_run("run-1")

    assert "minted-token-Hk9" not in str(raised.value)


@pytest.mark.parametrize("status", [400, 500])
def test_the_token_auth_on_its_own_keeps_the_api_key_out_of_raised_messages(
    requests_mock: rm.Mocker, waits: list[float], status: int
) -> None:
    requests_mock.get(TOKEN_URL["v3"], status_code=status, text=ECHOING_BODY)
    auth = SnowplowTokenAuth(
        base_url=BASE_URL, organization_id=ORG, api_key=API_KEY, api_key_id=API_KEY_ID
    )

    with pytest.raises(SourceError) as raised:
        auth.mint_token()

    assert API_KEY not in str(raised.value)
    assert API_KEY_ID not in str(raised.value)


# --- retries on jobs endpoints ----------------------------------------------------------------


def test_a_429_with_retry_after_on_a_jobs_endpoint_waits_that_long_then_succeeds(
    requests_mock: rm.Mocker, waits: list[float]
) -> None:
    token = mock_token(requests_mock)
    jobs = requests_mock.get(
        RUN_URL,
        [{"status_code": 429, "headers": {"Retry-After": "3"}}, {"status_code": 200, "json": RUN}],
    )

    assert make_client().get_run("run-1") == RUN

    assert waits == [3]
    assert jobs.call_count == 2
    assert token.call_count == 1  # a 429 is not an auth problem: no re-mint


def test_a_503_on_a_jobs_endpoint_is_retried_after_a_backoff_then_succeeds(
    requests_mock: rm.Mocker, waits: list[float]
) -> None:
    token = mock_token(requests_mock)
    jobs = requests_mock.get(
        RUN_URL, [{"status_code": 503, "text": "busy"}, {"status_code": 200, "json": RUN}]
    )

    assert make_client().get_run("run-1") == RUN

    assert len(waits) == 1
    assert waits[0] > 0
    assert jobs.call_count == 2
    assert token.call_count == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_jobs_endpoint_that_keeps_failing_raises_a_retryable_error_after_the_set_attempts(
    requests_mock: rm.Mocker, waits: list[float], max_attempts: int, status: int
) -> None:
    mock_token(requests_mock)
    jobs = requests_mock.get(RUN_URL, status_code=status, text="busy")

    with pytest.raises(VendorAPIError) as raised:
        make_client().get_run("run-1")

    assert raised.value.retryable is True
    assert raised.value.status == status
    assert jobs.call_count == max_attempts
    assert len(waits) == max_attempts - 1


def test_a_503_from_the_token_endpoint_is_retried_too(
    requests_mock: rm.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        TOKEN_URL["v2"],
        [{"status_code": 503}, {"status_code": 200, "json": {"accessToken": "token-1"}}],
    )
    requests_mock.get(RUN_URL, json=RUN)

    assert make_client().get_run("run-1") == RUN
    assert len(waits) == 1


def test_requests_go_to_the_configured_base_url_only(requests_mock: rm.Mocker) -> None:
    mock_token(requests_mock)
    requests_mock.get(RUN_URL, json=RUN)

    make_client().get_run("run-1")

    assert {origin_of(r.url) for r in requests_mock.request_history} == {BASE_URL}
