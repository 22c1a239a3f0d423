"""Request shapes and answers of the Alation client, one rule at a time (requests-mock)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as rm

from jobpulse.sources.alation.client import AlationClient, NotFound
from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)

BASE_URL = "https://yourcompany.alation.com"
JOB_URL = f"{BASE_URL}/api/v1/bulk_metadata/job/"
TOKEN_URL = f"{BASE_URL}/integration/v1/createAPIAccessToken/"
NAME = "MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-4ea1dc02-1c9f-41db-be6f-3f7cb1849da3"
API_TOKEN = "api-token-0123456789"
REFRESH_TOKEN = "refresh-token-0123456789"
ANSWER = {"status": "running", "msg": "", "result": ""}


def api_token_client(base_url: str = BASE_URL) -> AlationClient:
    return AlationClient(base_url, api_token=API_TOKEN, requests_per_second=1000)


def refresh_client() -> AlationClient:
    return AlationClient(
        BASE_URL, refresh_token=REFRESH_TOKEN, user_id=42, requests_per_second=1000
    )


def test_a_job_by_id_is_asked_at_the_documented_path_with_its_slash_and_the_token_header(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(JOB_URL, json=ANSWER)

    assert api_token_client().get_job(job_id=5) == ANSWER

    (sent,) = requests_mock.request_history
    assert sent.url == f"{JOB_URL}?id=5"
    assert sent.headers["TOKEN"] == API_TOKEN
    assert "Authorization" not in sent.headers


def test_a_job_name_is_url_encoded_with_its_hash_as_percent_23(requests_mock: rm.Mocker) -> None:
    requests_mock.get(JOB_URL, json=ANSWER)

    api_token_client().get_job(name=NAME)

    (sent,) = requests_mock.request_history
    assert (
        sent.url == f"{JOB_URL}?name=MetadataExtraction%231_2017-10-05-19-36-45-431906-00-00-"
        "4ea1dc02-1c9f-41db-be6f-3f7cb1849da3"
    )


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("a b&c=d", "a%20b%26c%3Dd"),
        ("x+y/z?w", "x%2By%2Fz%3Fw"),
        ("Extraction#2_clé", "Extraction%232_cl%C3%A9"),
    ],
    ids=["space-amp-eq", "plus-slash-question", "utf8"],
)
def test_any_name_reaches_alation_unchanged(
    requests_mock: rm.Mocker, name: str, encoded: str
) -> None:
    requests_mock.get(JOB_URL, json=ANSWER)

    api_token_client().get_job(name=name)

    sent = requests_mock.last_request
    assert sent is not None
    assert sent.url == f"{JOB_URL}?name={encoded}"
    query = parse_qs(urlsplit(sent.url).query)
    assert query == {"name": [name]}


@pytest.mark.parametrize(
    "base_url", [BASE_URL + "/", BASE_URL + "/alation", BASE_URL + "/alation/"]
)
def test_a_base_url_with_a_path_or_a_slash_keeps_the_documented_path_after_it(
    requests_mock: rm.Mocker, base_url: str
) -> None:
    requests_mock.get(rm.ANY, json=ANSWER)

    api_token_client(base_url).get_job(job_id=1)

    sent = requests_mock.last_request
    assert sent is not None
    assert sent.url == (f"{base_url.rstrip('/')}/api/v1/bulk_metadata/job/?id=1")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"detail": "Not found."}),
        (200, {}),
        (404, {"detail": "Not found."}),
        (400, {"detail": "Job does not exist."}),
        (400, {"id": ["bad"]}),
    ],
)
def test_an_unknown_job_answered_400_or_404_is_not_found(
    requests_mock: rm.Mocker, status: int, body: dict[str, Any]
) -> None:
    requests_mock.get(JOB_URL, status_code=status, json=body)

    answer = api_token_client().get_job(job_id=99)

    assert isinstance(answer, NotFound)
    assert answer.status == status


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            "Authentication failed",
            "API token was refused ('Authentication failed'); check SOURCES__ALATION__API_TOKEN",
        ),
        (
            "Authentication credentials were not provided.",
            "Alation received no token ('Authentication credentials were not provided.'); "
            "check that SOURCES__ALATION__API_TOKEN is set",
        ),
    ],
)
def test_the_documented_401_bodies_become_errors_naming_the_setting_to_fix(
    requests_mock: rm.Mocker, detail: str, expected: str
) -> None:
    requests_mock.get(JOB_URL, status_code=401, json={"detail": detail})

    with pytest.raises(VendorAuthError) as raised:
        api_token_client().get_job(job_id=1)

    message = str(raised.value)
    assert expected in message
    assert "Alation API GET /api/v1/bulk_metadata/job/?id=1: HTTP 401" in message
    assert API_TOKEN not in message


def test_a_403_names_the_token_setting(requests_mock: rm.Mocker) -> None:
    requests_mock.get(JOB_URL, status_code=403, json={"detail": "no"})

    with pytest.raises(VendorAuthError, match="check SOURCES__ALATION__API_TOKEN"):
        api_token_client().get_job(job_id=1)


def test_a_refresh_token_mints_an_access_token_once_and_sends_it_as_token(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(TOKEN_URL, status_code=201, json={"api_access_token": "minted-000001"})
    requests_mock.get(JOB_URL, json=ANSWER)
    client = refresh_client()

    client.get_job(job_id=1)
    client.get_job(job_id=2)

    mint, first, second = requests_mock.request_history
    assert (mint.method, mint.url) == ("POST", TOKEN_URL)
    assert mint.json() == {"refresh_token": REFRESH_TOKEN, "user_id": 42}
    assert first.headers["TOKEN"] == second.headers["TOKEN"] == "minted-000001"


def test_a_401_re_mints_once_and_the_request_succeeds_with_the_new_token(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"api_access_token": "minted-000001"}},
            {"json": {"api_access_token": "minted-000002"}},
        ],
    )
    requests_mock.get(
        JOB_URL,
        [{"status_code": 401, "json": {"detail": "Authentication failed"}}, {"json": ANSWER}],
    )

    assert refresh_client().get_job(job_id=1) == ANSWER

    sent = [r.headers.get("TOKEN") for r in requests_mock.request_history if r.method == "GET"]
    assert sent == ["minted-000001", "minted-000002"]


def test_a_fresh_token_refused_again_is_an_error_naming_the_refresh_settings(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.post(TOKEN_URL, json={"api_access_token": "minted-000001"})
    requests_mock.get(JOB_URL, status_code=401, json={"detail": "Authentication failed"})

    with pytest.raises(
        VendorAuthError,
        match="check SOURCES__ALATION__REFRESH_TOKEN and SOURCES__ALATION__USER_ID",
    ):
        refresh_client().get_job(job_id=1)

    assert [r.method for r in requests_mock.request_history] == ["POST", "GET", "POST", "GET"]


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refused_refresh_token_names_the_refresh_settings(
    requests_mock: rm.Mocker, status: int
) -> None:
    requests_mock.post(TOKEN_URL, status_code=status, json={"detail": f"bad {REFRESH_TOKEN}"})

    with pytest.raises(VendorAuthError) as raised:
        refresh_client().get_job(job_id=1)

    message = str(raised.value)
    assert "POST /integration/v1/createAPIAccessToken/" in message
    assert "check SOURCES__ALATION__REFRESH_TOKEN and SOURCES__ALATION__USER_ID" in message
    assert REFRESH_TOKEN not in message


@pytest.mark.parametrize("payload", [{"token": "minted-000003"}, {"access_token": "minted-000003"}])
def test_other_spellings_of_the_minted_token_are_accepted(
    requests_mock: rm.Mocker, payload: dict[str, str]
) -> None:
    requests_mock.post(TOKEN_URL, json=payload)
    requests_mock.get(JOB_URL, json=ANSWER)

    refresh_client().get_job(job_id=1)

    sent = requests_mock.last_request
    assert sent is not None
    assert sent.headers["TOKEN"] == "minted-000003"


def test_a_token_answer_without_a_token_is_a_payload_error(requests_mock: rm.Mocker) -> None:
    requests_mock.post(TOKEN_URL, json={"token_status": "ACTIVE"})

    with pytest.raises(VendorPayloadError, match="no api_access_token"):
        refresh_client().get_job(job_id=1)


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "<html></html>"])
def test_a_job_answer_that_is_not_a_json_object_is_a_payload_error(
    requests_mock: rm.Mocker, body: str
) -> None:
    requests_mock.get(JOB_URL, text=body)

    with pytest.raises(
        VendorPayloadError, match=r"Alation API GET /api/v1/bulk_metadata/job/\?id=1"
    ):
        api_token_client().get_job(job_id=1)


def test_a_server_error_is_retried_then_raised_as_retryable(requests_mock: rm.Mocker) -> None:
    requests_mock.get(JOB_URL, status_code=503, json={"detail": "down"})

    with pytest.raises(VendorAPIError) as raised:
        api_token_client().get_job(job_id=1)

    assert raised.value.retryable
    assert requests_mock.call_count > 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "set SOURCES__ALATION__API_TOKEN, or SOURCES__ALATION__REFRESH_TOKEN"),
        ({"refresh_token": REFRESH_TOKEN}, "SOURCES__ALATION__USER_ID"),
        (
            {"api_token": API_TOKEN, "requests_per_second": 0},
            "REQUESTS_PER_SECOND must be positive",
        ),
    ],
)
def test_missing_or_invalid_settings_are_config_errors(
    options: dict[str, Any], problem: str
) -> None:
    settings: dict[str, Any] = {"requests_per_second": 10, **options}
    with pytest.raises(SourceConfigError, match=problem):
        AlationClient(BASE_URL, **settings)


def test_an_empty_base_url_is_a_config_error() -> None:
    with pytest.raises(SourceConfigError, match="SOURCES__ALATION__BASE_URL is empty"):
        AlationClient(" ", api_token=API_TOKEN, requests_per_second=10)


def test_a_cut_off_token_answer_fails_without_quoting_the_token(requests_mock: rm.Mocker) -> None:
    requests_mock.post(TOKEN_URL, text='{"api_access_token": "minted-secret-0001", "user_')

    with pytest.raises(VendorPayloadError) as raised:
        refresh_client().get_job(job_id=1)

    assert "the token answer is not JSON" in str(raised.value)
    assert "minted-secret" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None
