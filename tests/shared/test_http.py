"""VendorClient: dlt's retries as configured, statuses mapped to jobpulse errors, no redirects."""

from __future__ import annotations

import pytest
import requests
import requests_mock as rm
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.redaction import register_secret
from tests.shared.conftest import RetrySettings

BASE_URL = "https://api.example.com/v1"
PATH = "jobs/runs"
URL = f"{BASE_URL}/{PATH}"
VENDOR = "Acme"


@pytest.fixture
def client(retry_config: RetrySettings) -> VendorClient:
    # retry_config first: dlt reads the retry settings when the session is created.
    return VendorClient(VENDOR, BASE_URL + "/")


def test_429_with_retry_after_waits_that_long_then_returns_the_body(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        URL,
        [
            {"status_code": 429, "headers": {"Retry-After": "2"}},
            {"status_code": 200, "json": {"runs": [1]}},
        ],
    )

    assert client.get_json(PATH) == {"runs": [1]}
    assert waits == [2]
    assert requests_mock.call_count == 2


def test_retry_after_longer_than_the_max_retry_delay_is_capped(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float], retry_config: RetrySettings
) -> None:
    requests_mock.get(
        URL,
        [
            {"status_code": 429, "headers": {"Retry-After": "3600"}},
            {"status_code": 200, "json": {}},
        ],
    )

    client.get_json(PATH)

    assert waits == [retry_config.max_retry_delay]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_then_200_succeeds_after_one_backoff_wait(
    client: VendorClient,
    requests_mock: rm.Mocker,
    waits: list[float],
    status: int,
    retry_config: RetrySettings,
) -> None:
    requests_mock.get(URL, [{"status_code": status}, {"status_code": 200, "json": {"ok": True}}])

    assert client.get_json(PATH) == {"ok": True}
    assert len(waits) == 1
    assert 0 < waits[0] <= retry_config.max_retry_delay


def test_retry_after_zero_falls_back_to_a_growing_positive_backoff(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float], retry_config: RetrySettings
) -> None:
    requests_mock.get(URL, status_code=429, headers={"Retry-After": "0"})

    with pytest.raises(VendorAPIError):
        client.get_json(PATH)

    assert len(waits) == retry_config.max_attempts - 1
    assert all(wait > 0 for wait in waits), waits
    assert waits == sorted(waits)
    assert waits[-1] > waits[0]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_exhausted_attempts_raise_a_retryable_error_naming_vendor_status_and_endpoint(
    client: VendorClient,
    requests_mock: rm.Mocker,
    waits: list[float],
    status: int,
    retry_config: RetrySettings,
) -> None:
    requests_mock.get(URL, status_code=status, text="busy")

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    error = raised.value
    assert type(error) is VendorAPIError
    assert error.retryable is True
    assert error.status == status
    assert error.vendor == VENDOR
    assert requests_mock.call_count == retry_config.max_attempts
    message = str(error)
    assert VENDOR in message
    assert f"HTTP {status}" in message
    assert "/v1/jobs/runs" in message


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_raise_a_non_retryable_auth_error_without_retrying(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float], status: int
) -> None:
    requests_mock.get(URL, status_code=status, text="bad key")

    with pytest.raises(VendorAuthError) as raised:
        client.get_json(PATH)

    assert raised.value.status == status
    assert raised.value.retryable is False
    assert "/v1/jobs/runs" in str(raised.value)
    assert requests_mock.call_count == 1
    assert waits == []


@pytest.mark.parametrize("status", [400, 404])
def test_other_4xx_raise_a_non_retryable_error_quoting_the_body(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float], status: int
) -> None:
    requests_mock.get(URL, status_code=status, text='{"error": "no such   organisation"}')

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    error = raised.value
    assert not isinstance(error, VendorAuthError)
    assert error.retryable is False
    assert error.status == status
    assert 'no such organisation"}' in str(error)  # whitespace flattened
    assert requests_mock.call_count == 1
    assert waits == []


def test_a_long_error_body_is_truncated_in_the_message(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, status_code=400, text="x" * 5000 + "END")

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    message = str(raised.value)
    assert "x" * 300 + "…" in message
    assert "x" * 301 not in message
    assert "END" not in message
    assert len(message) < 500


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_not_followed_and_the_error_names_the_target_host(
    client: VendorClient, requests_mock: rm.Mocker, status: int
) -> None:
    target = "https://elsewhere.example.org/steal"
    requests_mock.get(URL, status_code=status, headers={"Location": target})
    requests_mock.get(target, json={"stolen": True})

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    assert [request.url for request in requests_mock.request_history] == [URL]
    assert raised.value.status == status
    assert raised.value.retryable is False
    assert "elsewhere.example.org" in str(raised.value)


@pytest.mark.parametrize("exc", [requests.ConnectionError, requests.ConnectTimeout])
def test_an_unreachable_vendor_raises_a_retryable_error_after_the_retries(
    client: VendorClient,
    requests_mock: rm.Mocker,
    waits: list[float],
    exc: type[Exception],
    retry_config: RetrySettings,
) -> None:
    requests_mock.get(URL, exc=exc)

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    error = raised.value
    assert error.retryable is True
    assert error.status is None
    assert VENDOR in str(error)
    assert PATH in str(error)
    assert requests_mock.call_count == retry_config.max_attempts
    assert len(waits) == retry_config.max_attempts - 1


def test_an_unreachable_vendor_error_names_the_same_endpoint_as_a_status_error(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float]
) -> None:
    requests_mock.get(URL, exc=requests.ConnectionError)

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    assert raised.value.endpoint == "GET /v1/jobs/runs"


@pytest.mark.parametrize(("status", "body"), [(200, ""), (200, " \n"), (204, "")])
def test_an_empty_2xx_body_is_none(
    client: VendorClient, requests_mock: rm.Mocker, status: int, body: str
) -> None:
    requests_mock.get(URL, status_code=status, text=body)

    assert client.get_json(PATH) is None


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "{not json"])
def test_a_2xx_body_that_is_not_json_raises_a_payload_error(
    client: VendorClient, requests_mock: rm.Mocker, body: str
) -> None:
    requests_mock.get(URL, status_code=200, text=body)

    with pytest.raises(VendorPayloadError) as raised:
        client.get_json(PATH)

    assert VENDOR in str(raised.value)
    assert "not JSON" in str(raised.value)
    assert body in str(raised.value)


@pytest.mark.parametrize("status", [400, 401, 500])
def test_a_registered_secret_echoed_in_an_error_body_is_redacted_from_the_message(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float], status: int
) -> None:
    secret = "sk-live-0123456789abcdef"
    register_secret(secret)
    requests_mock.get(URL, status_code=status, text=f'{{"error": "bad key {secret}"}}')

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH)

    assert secret not in str(raised.value)
    assert "bad key ***" in str(raised.value)


@pytest.mark.parametrize("param", ["api_key", "access_token", "token"])
def test_sensitive_query_params_are_masked_in_the_endpoint(
    client: VendorClient, requests_mock: rm.Mocker, param: str
) -> None:
    secret = "query-secret-value-42"
    requests_mock.get(URL, status_code=404)

    with pytest.raises(VendorAPIError) as raised:
        client.get_json(PATH, params={param: secret, "page": 2})

    assert secret not in str(raised.value)
    assert secret not in raised.value.endpoint
    assert "page=2" in raised.value.endpoint


def test_get_json_sends_params_and_headers_and_returns_the_decoded_body(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, json=[{"id": 1}, {"id": 2}])

    body = client.get_json(f"/{PATH}", params={"since": "2024-01-01"}, headers={"X-Org": "o1"})

    assert body == [{"id": 1}, {"id": 2}]
    sent = requests_mock.last_request
    assert sent is not None
    assert sent.qs == {"since": ["2024-01-01"]}
    assert sent.headers["X-Org"] == "o1"


def test_post_json_sends_the_body_and_names_the_endpoint_with_its_method(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(URL, [{"status_code": 200, "json": {"ok": 1}}, {"status_code": 404}])

    assert client.post_json(PATH, {"action": "x"}) == {"ok": 1}
    assert requests_mock.request_history[-1].json() == {"action": "x"}
    with pytest.raises(VendorAPIError, match=r"Acme API POST /v1/jobs/runs: HTTP 404"):
        client.post_json(PATH, {"action": "x"})


@pytest.mark.parametrize(("retry", "attempts"), [(True, 3), (False, 1)])
def test_retry_false_sends_a_request_once(
    retry_config: RetrySettings, requests_mock: rm.Mocker, retry: bool, attempts: int
) -> None:
    once = VendorClient(VENDOR, BASE_URL, retry=retry)
    requests_mock.post(URL, status_code=503)

    with pytest.raises(VendorAPIError, match="HTTP 503"):
        once.post_json(PATH, {})
    assert requests_mock.call_count == attempts


def test_post_json_sends_the_body_as_json_and_returns_the_decoded_answer(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(URL, status_code=201, json={"token": "t"})

    assert client.post_json(PATH, {"user_id": 3}, headers={"X-Org": "o1"}) == {"token": "t"}

    sent = requests_mock.last_request
    assert sent is not None
    assert (sent.method, sent.json(), sent.headers["X-Org"]) == ("POST", {"user_id": 3}, "o1")
    assert sent.headers["Content-Type"] == "application/json"


def test_post_json_errors_name_the_post_endpoint(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(URL, status_code=400, json={"detail": "bad"})

    with pytest.raises(VendorAPIError) as raised:
        client.post_json(PATH, {})

    assert raised.value.endpoint == "POST /v1/jobs/runs"
    assert raised.value.body == '{"detail": "bad"}'


def test_json_is_read_as_utf8_whatever_charset_a_text_content_type_implies(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    body = '{"error": "Clé — 行"}'.encode()
    requests_mock.get(URL, content=body, headers={"Content-Type": "text/plain"})

    assert client.get_json(PATH) == {"error": "Clé — 行"}


def test_post_json_without_a_body_sends_none_and_names_the_post_in_errors(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(URL, status_code=400, json={"message": "busy"})

    with pytest.raises(VendorAPIError, match=r"Acme API POST /v1/jobs/runs: HTTP 400") as raised:
        client.post_json(PATH)

    assert requests_mock.request_history[-1].body is None
    assert requests_mock.call_count == 1
    assert raised.value.body == '{"message": "busy"}'


def test_paginate_json_yields_pages_until_the_paginator_stops(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    pages = {"0": [1, 2], "1": [3, 4], "2": []}
    requests_mock.get(URL, json=lambda request, _: {"items": pages[request.qs["page"][0]]})
    paginator = PageNumberPaginator(base_page=0, page_param="page", total_path=None)

    assert list(client.paginate_json(PATH, paginator)) == [[1, 2], [3, 4], []]


def test_paginate_json_retries_a_429_then_goes_on(
    client: VendorClient, requests_mock: rm.Mocker, waits: list[float]
) -> None:
    requests_mock.get(
        URL,
        [
            {"status_code": 429, "headers": {"Retry-After": "2"}},
            {"json": {"items": [1]}},
            {"json": {"items": []}},
        ],
    )
    paginator = PageNumberPaginator(base_page=0, page_param="page", total_path=None)

    assert list(client.paginate_json(PATH, paginator)) == [[1], []]
    assert waits == [2]


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            {"status_code": 404, "text": "gone"},
            VendorAPIError,
            "GET /v1/jobs/runs?page=0: HTTP 404",
        ),
        ({"status_code": 401}, VendorAuthError, "HTTP 401"),
        ({"status_code": 200, "text": "{not json"}, VendorPayloadError, "not JSON"),
    ],
)
def test_paginate_json_raises_vendor_errors(
    client: VendorClient,
    requests_mock: rm.Mocker,
    answer: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    requests_mock.get(URL, **answer)  # type: ignore[arg-type]
    paginator = PageNumberPaginator(base_page=0, page_param="page", total_path=None)

    with pytest.raises(error, match=message.replace("?", r"\?")):
        list(client.paginate_json(PATH, paginator))


@pytest.mark.parametrize("status", [200, 204])
def test_paginate_json_takes_an_empty_body_as_an_empty_page(
    client: VendorClient, requests_mock: rm.Mocker, status: int
) -> None:
    requests_mock.get(URL, status_code=status, text="")
    paginator = PageNumberPaginator(base_page=0, page_param="page", total_path=None)

    assert list(client.paginate_json(PATH, paginator)) == [[]]
