"""SnowplowClient: `from`/`to`, windows refused before sending, the payload shapes tolerated."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pendulum
import pytest
import requests_mock as rm

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.snowplow.client import SnowplowClient, steps_of_run
from jobpulse.sources.snowplow.windows import Window

BASE_URL = "https://console.example.com"
ORG = "0f7c2d4e-8a1b-4c3d-9e5f-6a7b8c9d0e1f"
ORG_URL = f"{BASE_URL}/api/msc/v1/organizations/{ORG}"
TOKEN_URL = f"{ORG_URL}/credentials/v2/token"
RUNS_URL = f"{ORG_URL}/jobs/v1/runs"
RUN_URL = f"{RUNS_URL}/run-1"
STEPS_URL = f"{RUN_URL}/steps"
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

RUNS = [
    {"runId": "run-1", "state": "SUCCEEDED", "startTime": "2026-03-01T10:00:00Z"},
    {"runId": "run-2", "state": "RUNNING", "startTime": "2026-03-01T11:00:00Z"},
]
STEPS = [
    {"name": "base", "state": "SUCCEEDED", "dependencies": []},
    {"name": "dbt run / sessions", "state": "FAILED", "dependencies": ["base"]},
]
RUN = {"runId": "run-1", "state": "FAILED", "steps": STEPS}
STEP = {"name": "dbt run / sessions", "state": "FAILED", "stdout": "ok", "stderr": "boom"}


@pytest.fixture
def token(requests_mock: rm.Mocker) -> rm.adapter._Matcher:
    return requests_mock.get(TOKEN_URL, json={"accessToken": "token-1"})


@pytest.fixture
def client(token: rm.adapter._Matcher) -> SnowplowClient:
    return SnowplowClient(BASE_URL, ORG, "api-key-for-client-tests")


def recent_window(hours: int = 2) -> Window:
    end = pendulum.now("UTC").set(microsecond=0) - pendulum.duration(minutes=5)
    return Window(end - pendulum.duration(hours=hours), end)


def last_request(matcher: rm.adapter._Matcher) -> rm.request._RequestObjectProxy:
    """The last request `matcher` answered (the stubs type it Optional: none is a failure)."""
    request = matcher.last_request
    assert request is not None, "the matcher answered no request"
    return request


def url_of(request: rm.request._RequestObjectProxy) -> str:
    # requests_mock's stub leaves `url` undeclared (reached through `__getattr__`, so Any).
    url: str = request.url
    return url


def query_of(request: rm.request._RequestObjectProxy) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url_of(request)).query)


def raw_path(request: rm.request._RequestObjectProxy) -> str:
    """The path as sent, percent-encoding untouched (requests_mock's `.path` lower-cases it)."""
    return urlsplit(url_of(request)).path


# --- list_runs --------------------------------------------------------------------------------


def test_list_runs_sends_from_and_to_as_whole_second_utc_timestamps(
    client: SnowplowClient, requests_mock: rm.Mocker
) -> None:
    listing = requests_mock.get(RUNS_URL, json=RUNS)
    end = pendulum.now("Europe/Paris").set(microsecond=654_321) - pendulum.duration(minutes=5)
    start = end - pendulum.duration(hours=3)

    client.list_runs(Window(start, end))

    query = query_of(last_request(listing))
    assert set(query) == {"from", "to"}
    (sent_from,), (sent_to,) = query["from"], query["to"]
    assert ISO_Z.match(sent_from), sent_from
    assert ISO_Z.match(sent_to), sent_to  # the same type as `from`: both timestamps
    assert sent_from == start.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sent_to == end.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    parsed_from, parsed_to = pendulum.parse(sent_from), pendulum.parse(sent_to)
    assert isinstance(parsed_from, pendulum.DateTime), parsed_from
    assert isinstance(parsed_to, pendulum.DateTime), parsed_to
    assert parsed_to - parsed_from == pendulum.duration(hours=3)


def test_list_runs_sends_the_bearer_token_to_the_documented_path(
    client: SnowplowClient, requests_mock: rm.Mocker
) -> None:
    listing = requests_mock.get(RUNS_URL, json=RUNS)

    assert client.list_runs(recent_window()) == RUNS

    assert raw_path(last_request(listing)) == f"/api/msc/v1/organizations/{ORG}/jobs/v1/runs"
    assert last_request(listing).headers["Authorization"] == "Bearer token-1"


def _now() -> pendulum.DateTime:
    return pendulum.now("UTC").set(microsecond=0)


@pytest.mark.parametrize(
    ("make_window", "message"),
    [
        (lambda: Window(_now() - pendulum.duration(hours=97), _now()), "96 hours"),
        (
            lambda: Window(_now() - pendulum.duration(days=8), _now() - pendulum.duration(days=7)),
            "7 days",
        ),
        (lambda: Window(_now(), _now()), "empty"),
        (lambda: Window(_now(), _now() - pendulum.duration(hours=1)), "empty"),
    ],
    ids=["longer-than-96h", "older-than-a-week", "empty", "inverted"],
)
def test_list_runs_refuses_a_window_the_api_would_reject_without_sending_a_request(
    client: SnowplowClient,
    requests_mock: rm.Mocker,
    make_window: Callable[[], Window],
    message: str,
) -> None:
    requests_mock.get(RUNS_URL, json=RUNS)

    with pytest.raises(ValueError, match=message):
        client.list_runs(make_window())

    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "payload",
    [
        RUNS,
        {"runs": RUNS},
        {"data": RUNS},
        {"jobRuns": RUNS},
        {"items": RUNS},
        {"results": RUNS},
        {"runs": RUNS, "warnings": [{"code": "w1"}]},
        {"jobRunsInWindow": RUNS, "total": 2, "next": None},
    ],
    ids=[
        "bare-array",
        "runs",
        "data",
        "jobRuns",
        "items",
        "results",
        "known-key-beside-another-list",
        "one-unknown-list-key",
    ],
)
def test_list_runs_accepts_a_bare_array_or_an_object_wrapping_it(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(RUNS_URL, json=payload)

    assert client.list_runs(recent_window()) == RUNS


@pytest.mark.parametrize("payload", [[], {"runs": []}, None], ids=["bare", "wrapped", "null"])
def test_an_empty_listing_is_an_empty_list(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(RUNS_URL, json=payload)

    assert client.list_runs(recent_window()) == []


def test_an_empty_body_is_an_empty_listing(
    client: SnowplowClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(RUNS_URL, status_code=204, text="")

    assert client.list_runs(recent_window()) == []


NOT_A_LIST_OF_OBJECTS = pytest.mark.parametrize(
    "payload",
    [
        {},
        {"runs": "none"},
        {"message": "ok"},
        {"a": [{"x": 1}], "b": [{"y": 2}]},
        "runs",
        42,
        [1, 2],
        ["run-1"],
        [{"runId": "run-1"}, None],
        [[{"runId": "run-1"}]],
        {"runs": [{"runId": "run-1"}, "run-2"]},
    ],
    ids=[
        "empty-object",
        "known-key-not-a-list",
        "no-list",
        "two-unknown-lists",
        "string",
        "number",
        "numbers",
        "strings",
        "object-and-null",
        "nested-array",
        "wrapped-mixed",
    ],
)


@NOT_A_LIST_OF_OBJECTS
def test_a_runs_listing_that_is_not_a_list_of_objects_raises_a_payload_error_naming_the_endpoint(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(RUNS_URL, text=json.dumps(payload))

    with pytest.raises(VendorPayloadError) as raised:
        client.list_runs(recent_window())

    assert raised.value.endpoint == f"GET /api/msc/v1/organizations/{ORG}/jobs/v1/runs"
    assert "/jobs/v1/runs" in str(raised.value)
    assert "runs" in str(raised.value).split("unexpected response:")[1]


@NOT_A_LIST_OF_OBJECTS
def test_a_steps_listing_that_is_not_a_list_of_objects_raises_a_payload_error_naming_the_endpoint(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    if isinstance(payload, dict) and "runs" in payload:
        payload = {"steps": payload["runs"]}
    requests_mock.get(STEPS_URL, text=json.dumps(payload))

    with pytest.raises(VendorPayloadError) as raised:
        client.get_steps("run-1")

    assert "/jobs/v1/runs/run-1/steps" in str(raised.value)


# --- get_run, get_steps, get_step -------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [RUN, {"run": RUN}, {"jobRun": RUN}, {"data": RUN}],
    ids=["bare", "run", "jobRun", "data"],
)
def test_get_run_accepts_a_bare_object_or_one_wrapped_under_a_known_key(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(RUN_URL, json=payload)

    assert client.get_run("run-1") == RUN


@pytest.mark.parametrize("payload", [[RUN], "run-1", None], ids=["array", "string", "null"])
def test_get_run_refuses_a_payload_that_is_not_an_object(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(RUN_URL, text=json.dumps(payload))

    with pytest.raises(VendorPayloadError) as raised:
        client.get_run("run-1")

    assert "/jobs/v1/runs/run-1" in str(raised.value)


@pytest.mark.parametrize(
    "payload", [STEPS, {"steps": STEPS}, {"items": STEPS}], ids=["bare", "steps", "items"]
)
def test_get_steps_accepts_a_bare_array_or_an_object_wrapping_it(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(STEPS_URL, json=payload)

    assert client.get_steps("run-1") == STEPS


@pytest.mark.parametrize(
    ("step_name", "encoded"),
    [
        ("dbt run / sessions", "dbt%20run%20%2F%20sessions"),
        ("manifest/cleanup", "manifest%2Fcleanup"),
        ("products / daily rollup", "products%20%2F%20daily%20rollup"),
        ("what?#frag", "what%3F%23frag"),
        ("100%", "100%25"),
    ],
    ids=["spaces-and-slash", "slash", "sandbox-name", "query-and-fragment", "percent"],
)
def test_get_step_url_encodes_the_step_name_into_one_path_segment(
    client: SnowplowClient, requests_mock: rm.Mocker, step_name: str, encoded: str
) -> None:
    step = requests_mock.get(re.compile(re.escape(STEPS_URL) + "/"), json=STEP)

    assert client.get_step("run-1", step_name) == STEP

    assert raw_path(last_request(step)) == (
        f"/api/msc/v1/organizations/{ORG}/jobs/v1/runs/run-1/steps/{encoded}"
    )
    assert urlsplit(url_of(last_request(step))).query == ""


@pytest.mark.parametrize("step_name", ["..", "."])
def test_a_step_named_with_dots_only_stays_one_path_segment(
    client: SnowplowClient, requests_mock: rm.Mocker, step_name: str
) -> None:
    anything = requests_mock.get(re.compile(re.escape(ORG_URL) + "/jobs/"), json=STEP)

    client.get_step("run-1", step_name)

    parent, segment = raw_path(last_request(anything)).rsplit("/", 1)
    assert parent == f"/api/msc/v1/organizations/{ORG}/jobs/v1/runs/run-1/steps"
    assert segment


def test_a_run_id_is_url_encoded_too(client: SnowplowClient, requests_mock: rm.Mocker) -> None:
    steps = requests_mock.get(re.compile(re.escape(RUNS_URL) + "/"), json=STEPS)

    client.get_steps("run/1 a")

    assert raw_path(last_request(steps)) == (
        f"/api/msc/v1/organizations/{ORG}/jobs/v1/runs/run%2F1%20a/steps"
    )


@pytest.mark.parametrize(
    "payload", [STEP, {"step": STEP}, {"data": STEP}], ids=["bare", "step", "data"]
)
def test_get_step_accepts_a_bare_object_or_one_wrapped_under_a_known_key(
    client: SnowplowClient, requests_mock: rm.Mocker, payload: object
) -> None:
    requests_mock.get(re.compile(re.escape(STEPS_URL) + "/"), json=payload)

    assert client.get_step("run-1", "dbt run / sessions") == STEP


def test_a_wrapped_step_keeps_the_logs_beside_its_wrapper(
    client: SnowplowClient, requests_mock: rm.Mocker
) -> None:
    fields = {"name": STEP["name"], "state": STEP["state"]}
    payload = {"step": fields, "stdout": STEP["stdout"], "stderr": STEP["stderr"]}
    requests_mock.get(re.compile(re.escape(STEPS_URL) + "/"), json=payload)

    assert client.get_step("run-1", "dbt run / sessions") == STEP


@pytest.mark.parametrize(
    ("run", "expected"),
    [(RUN, STEPS), ({"runId": "r", "steps": {"steps": STEPS}}, STEPS), ({"runId": "r"}, [])],
    ids=["embedded", "wrapped", "none"],
)
def test_steps_of_run_reads_the_steps_embedded_in_a_run(
    run: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    assert steps_of_run(run, "GET runs/r") == expected


def test_steps_of_run_refuses_steps_that_are_not_objects() -> None:
    with pytest.raises(VendorPayloadError, match="GET runs/r"):
        steps_of_run({"runId": "r", "steps": ["base"]}, "GET runs/r")
