"""TokenExchangeAuth: lazy mint, one re-mint on 401, one mint across threads, token kept hidden."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import requests_mock as rm
import time_machine
from dlt.common.configuration import configspec

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.token_auth import MintedToken, TokenExchangeAuth
from tests.shared.conftest import RetrySettings

BASE_URL = "https://api.example.com"
URL = f"{BASE_URL}/runs"


@configspec
class CountingAuth(TokenExchangeAuth):
    """Mints "token-1", "token-2", ... and counts the mints; `mint_seconds` makes a mint slow."""

    mint_seconds: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.mints = 0
        # When set, each request waits here once authorized, so threads hold the same token.
        self.authorized: threading.Barrier | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = super().__call__(request)
        if self.authorized is not None:
            self.authorized.wait(timeout=5)
        return request

    def mint_token(self) -> str:
        if self.mint_seconds:
            time.sleep(self.mint_seconds)
        self.mints += 1
        return f"token-{self.mints}"


@pytest.fixture
def auth() -> CountingAuth:
    return CountingAuth()


@pytest.fixture
def client(auth: CountingAuth, retry_config: RetrySettings) -> VendorClient:
    return VendorClient("Acme", BASE_URL, auth=auth)


def sent_tokens(requests_mock: rm.Mocker) -> list[str]:
    return [request.headers["Authorization"] for request in requests_mock.request_history]


def test_no_token_is_minted_until_the_first_request(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, json={})
    assert auth.mints == 0

    client.get_json("runs")

    assert auth.mints == 1


def test_the_request_carries_the_minted_token_as_a_bearer_header(
    client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, json={})

    client.get_json("runs")

    assert sent_tokens(requests_mock) == ["Bearer token-1"]


def test_the_token_is_minted_once_for_many_requests(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, json={})

    for _ in range(5):
        client.get_json("runs")

    assert auth.mints == 1
    assert set(sent_tokens(requests_mock)) == {"Bearer token-1"}


def test_a_401_re_mints_once_and_resends_with_the_new_token(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, [{"status_code": 401}, {"status_code": 200, "json": {"ok": 1}}])

    assert client.get_json("runs") == {"ok": 1}

    assert auth.mints == 2
    assert sent_tokens(requests_mock) == ["Bearer token-1", "Bearer token-2"]


def test_later_requests_keep_the_re_minted_token(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, [{"status_code": 401}, {"status_code": 200, "json": {}}])
    client.get_json("runs")

    client.get_json("runs")

    assert auth.mints == 2
    assert sent_tokens(requests_mock)[-1] == "Bearer token-2"


def test_a_second_401_with_a_fresh_token_raises_an_auth_error_after_one_re_mint(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, status_code=401, text="token expired")

    with pytest.raises(VendorAuthError) as raised:
        client.get_json("runs")

    assert raised.value.status == 401
    assert auth.mints == 2
    assert sent_tokens(requests_mock) == ["Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize("status", [403, 404, 500])
def test_statuses_other_than_401_do_not_re_mint(
    auth: CountingAuth,
    client: VendorClient,
    requests_mock: rm.Mocker,
    waits: list[float],
    status: int,
) -> None:
    requests_mock.get(URL, status_code=status)

    with pytest.raises(VendorAPIError):
        client.get_json("runs")

    assert auth.mints == 1


def test_concurrent_first_requests_from_many_threads_mint_once(
    requests_mock: rm.Mocker, retry_config: RetrySettings
) -> None:
    threads = 8
    auth = CountingAuth(mint_seconds=0.05)
    client = VendorClient("Acme", BASE_URL, auth=auth)
    requests_mock.get(URL, json={"ok": 1})
    start = threading.Barrier(threads)

    def fetch(_: int) -> object:
        start.wait(timeout=5)
        return client.get_json("runs")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(fetch, range(threads)))

    assert results == [{"ok": 1}] * threads
    assert auth.mints == 1
    assert set(sent_tokens(requests_mock)) == {"Bearer token-1"}


def test_threads_rejected_with_the_same_token_share_one_re_mint(
    requests_mock: rm.Mocker, retry_config: RetrySettings
) -> None:
    threads = 8
    auth = CountingAuth()
    auth.authorized = threading.Barrier(threads)  # all send token-1 before any 401 is handled
    client = VendorClient("Acme", BASE_URL, auth=auth)

    def respond(request: requests.PreparedRequest, context: Any) -> dict[str, int]:
        if request.headers["Authorization"] == "Bearer token-1":
            context.status_code = 401
            return {}
        return {"ok": 1}

    requests_mock.get(URL, json=respond)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda _: client.get_json("runs"), range(threads)))

    assert results == [{"ok": 1}] * threads
    assert auth.mints == 2
    assert (
        sorted(sent_tokens(requests_mock))
        == ["Bearer token-1"] * threads + ["Bearer token-2"] * threads
    )


def test_the_token_is_not_a_config_field_nor_in_repr_or_str(
    auth: CountingAuth, client: VendorClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.get(URL, json={})
    client.get_json("runs")
    token = "token-1"

    field_values = {f.name: getattr(auth, f.name) for f in dataclasses.fields(auth)}
    assert token not in repr(field_values)
    assert token not in repr(dict(auth))  # dlt configs are mappings of their fields
    assert token not in repr(auth)
    assert token not in str(auth)


def test_the_minted_token_is_redacted_from_log_lines(
    client: VendorClient, requests_mock: rm.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    requests_mock.get(URL, json={})
    client.get_json("runs")

    with caplog.at_level(logging.INFO):
        logging.getLogger("jobpulse.test").info("using Bearer %s now", "token-1")

    assert caplog.records[-1].getMessage() == "using Bearer *** now"
    assert "token-1" not in caplog.text


@configspec
class HeaderAuth(CountingAuth):
    """A vendor that sends its token in a header of its own."""

    def token_headers(self, token: str) -> dict[str, str]:
        return {"X-Vendor-Token": token}


def test_a_vendor_header_carries_the_token_and_the_re_minted_one(
    requests_mock: rm.Mocker, retry_config: RetrySettings
) -> None:
    auth = HeaderAuth()
    client = VendorClient("Acme", BASE_URL, auth=auth)
    requests_mock.get(URL, [{"status_code": 401}, {"status_code": 200, "json": {}}])

    client.get_json("runs")

    sent = [request.headers for request in requests_mock.request_history]
    assert [headers["X-Vendor-Token"] for headers in sent] == ["token-1", "token-2"]
    assert all("Authorization" not in headers for headers in sent)


class ExpiringAuth(CountingAuth):
    """Mints tokens that live `lifetime` seconds."""

    lifetime: float = 600.0

    def mint_token(self) -> MintedToken:  # type: ignore[override]
        return MintedToken(str(super().mint_token()), expires_in=self.lifetime)


def test_a_token_with_a_lifetime_is_re_minted_once_it_is_over(
    requests_mock: rm.Mocker, retry_config: RetrySettings
) -> None:
    auth = ExpiringAuth()
    client = VendorClient("Acme", BASE_URL, auth=auth)
    requests_mock.get(URL, json={})
    with time_machine.travel(0, tick=False) as traveller:
        client.get_json("runs")
        traveller.shift(500)  # within the lifetime less the safety margin of 60 s
        client.get_json("runs")
        assert auth.mints == 1
        traveller.shift(60)
        client.get_json("runs")

    assert auth.mints == 2
    assert sent_tokens(requests_mock) == ["Bearer token-1"] * 2 + ["Bearer token-2"]
