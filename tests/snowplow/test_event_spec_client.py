"""EventSpecClient: request shapes of the two read endpoints, and how refusals are told apart."""

from __future__ import annotations

import json

import pytest
import requests_mock as rm

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError
from jobpulse.sources.snowplow.client import SnowplowClient
from jobpulse.sources.snowplow.event_spec_client import EventSpecClient, EventSpecUnreadable
from tests.snowplow.event_spec_fixtures import documented, documented_spec_with_findings

BASE_URL = "https://console.example.com"
ORG = "0f7c2d4e-8a1b-4c3d-9e5f-6a7b8c9d0e1f"
ORG_URL = f"{BASE_URL}/api/msc/v1/organizations/{ORG}"
SPECS_URL = f"{ORG_URL}/event-specs/v1"
SPEC_ID = "5a203ef8-939b-4fd1-914e-f12a3dd1a869"
SPEC_URL = f"{SPECS_URL}/{SPEC_ID}"


@pytest.fixture
def client(requests_mock: rm.Mocker) -> EventSpecClient:
    requests_mock.get(f"{ORG_URL}/credentials/v2/token", json={"accessToken": "token-1"})
    return EventSpecClient(SnowplowClient(BASE_URL, ORG, "api-key-for-event-spec-tests"))


def _answered(matcher: rm.adapter._Matcher) -> rm.request._RequestObjectProxy:
    request = matcher.last_request
    assert request is not None, "the matcher answered no request"
    return request


def test_list_asks_for_the_latest_change_and_passes_filters(
    client: EventSpecClient, requests_mock: rm.Mocker
) -> None:
    listed = requests_mock.get(SPECS_URL, json=documented()["create_response"])
    envelope = client.list_specs({"dataProductId": "p-1", "status": "published"})
    request = _answered(listed)
    assert request.method == "GET"
    assert request.qs == {
        "withlatesthistory": ["true"],
        "dataproductid": ["p-1"],
        "status": ["published"],
    }
    assert "withLatestHistory=true" in request.url  # sent as documented, case and all
    assert request.headers["Authorization"] == "Bearer token-1"
    assert [spec["id"] for spec in envelope.specs] == [SPEC_ID]


@pytest.mark.parametrize(("with_history", "query"), [(True, "?withHistory=true"), (False, "")])
def test_single_spec_read_asks_for_history_only_when_needed(
    client: EventSpecClient, requests_mock: rm.Mocker, with_history: bool, query: str
) -> None:
    read = requests_mock.get(SPEC_URL, json=documented_spec_with_findings())
    envelope = client.get_spec(SPEC_ID, with_history=with_history)
    assert _answered(read).url == SPEC_URL + query
    assert envelope.errors == documented()["compatibility_errors"]


def test_refusal_with_error_entries_is_this_specs_failure_naming_them(
    client: EventSpecClient, requests_mock: rm.Mocker
) -> None:
    body = {
        "data": [],
        "includes": [],
        "errors": [
            {"type": "Warning", "code": "SchemaUndecidable", "title": "not this one"},
            {"type": "Error", "code": "SchemaIncompatible", "title": "broken against 1-0-0"},
        ],
    }
    requests_mock.get(SPEC_URL, status_code=422, text=json.dumps(body))
    with pytest.raises(EventSpecUnreadable) as caught:
        client.get_spec(SPEC_ID, with_history=False)
    message = str(caught.value)
    assert f"event-specs/v1/{SPEC_ID}" in message
    assert "HTTP 422" in message
    assert "SchemaIncompatible: broken against 1-0-0" in message
    assert "not this one" not in message


@pytest.mark.parametrize("body", ["", "<html>gone</html>", '{"message": "no"}'])
def test_refusal_without_error_entries_is_still_this_specs_failure(
    client: EventSpecClient, requests_mock: rm.Mocker, body: str
) -> None:
    requests_mock.get(SPEC_URL, status_code=404, text=body)
    with pytest.raises(EventSpecUnreadable, match="HTTP 404: request refused"):
        client.get_spec(SPEC_ID, with_history=True)


@pytest.mark.parametrize("body", ['{"data": "not a spec"}', "<html>sign in</html>", '{"data": ['])
def test_an_unusable_2xx_to_a_single_read_fails_the_load(
    client: EventSpecClient, requests_mock: rm.Mocker, body: str
) -> None:
    requests_mock.get(SPEC_URL, text=body)
    with pytest.raises(VendorPayloadError, match=f"event-specs/v1/{SPEC_ID}"):
        client.get_spec(SPEC_ID, with_history=True)


@pytest.mark.parametrize(
    ("status", "error"), [(403, VendorAuthError), (500, VendorAPIError), (429, VendorAPIError)]
)
def test_refused_credentials_and_lasting_failures_fail_the_load(
    client: EventSpecClient, requests_mock: rm.Mocker, status: int, error: type[Exception]
) -> None:
    requests_mock.get(SPEC_URL, status_code=status, headers={"Retry-After": "0"})
    with pytest.raises(error) as caught:
        client.get_spec(SPEC_ID, with_history=True)
    assert not isinstance(caught.value, EventSpecUnreadable)


def test_a_list_call_refused_for_access_says_which_setting_turns_it_off(
    client: EventSpecClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(SPECS_URL, status_code=403, json={"message": "forbidden"})
    with pytest.raises(VendorAuthError, match="SOURCES__SNOWPLOW__EVENT_SPECS=false"):
        client.list_specs({})


def test_a_refused_list_call_fails_the_load(
    client: EventSpecClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(SPECS_URL, status_code=400, json={"errors": [{"type": "Error"}]})
    with pytest.raises(VendorAPIError, match="event-specs/v1"):
        client.list_specs({})
