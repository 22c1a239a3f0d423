"""The Alation sandbox answers as the document says, moves with the clock, enforces its rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import time_machine

from jobpulse.sources.alation.sandbox import (
    DOCUMENTED_BY_ID,
    DOCUMENTED_BY_NAME,
    AlationSandbox,
    JobSpec,
)
from jobpulse.sources.shared.sandbox import Fault

JOB = "/api/v1/bulk_metadata/job/"
TOKEN = "/integration/v1/createAPIAccessToken/"
DOC_NAME = next(iter(DOCUMENTED_BY_NAME))


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[AlationSandbox]:
    with AlationSandbox(requests_per_second=1000) as started:
        yield started


def get(
    sandbox: AlationSandbox, query: str, token: str | None = None, path: str = JOB
) -> requests.Response:
    headers = {"TOKEN": token if token is not None else sandbox.api_token}
    return requests.get(
        f"{sandbox.base_url}{path}?{query}", headers=headers, timeout=5, allow_redirects=False
    )


def test_the_documented_examples_are_answered_as_printed(sandbox: AlationSandbox) -> None:
    encoded = DOC_NAME.replace("#", "%23")
    by_name = get(sandbox, f"name={encoded}")
    by_id = get(sandbox, "id=1")

    assert by_name.headers["Content-Type"] == "application/json"
    assert by_name.json() == DOCUMENTED_BY_NAME[DOC_NAME]
    assert json.loads(by_name.json()["result"])["error"] == "1 errors were ignored"
    assert by_id.json() == DOCUMENTED_BY_ID[1]


def test_a_name_with_an_unencoded_hash_is_not_found(sandbox: AlationSandbox) -> None:
    # requests drops what follows `#` as a fragment, as any HTTP client does
    assert get(sandbox, f"name={DOC_NAME}").status_code == 404


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("", "Authentication credentials were not provided."),
        ("wrong-token", "Authentication failed"),
    ],
)
def test_the_documented_401_bodies(sandbox: AlationSandbox, token: str, detail: str) -> None:
    response = get(sandbox, "id=1", token=token)

    assert (response.status_code, response.json()) == (401, {"detail": detail})


def test_the_path_without_its_trailing_slash_is_redirected(sandbox: AlationSandbox) -> None:
    response = get(sandbox, "id=1", path=JOB.rstrip("/"))

    assert response.status_code == 308


@pytest.mark.parametrize("query", ["", "id=1&name=x", "id=one"])
def test_a_request_without_exactly_one_valid_parameter_is_400(
    sandbox: AlationSandbox, query: str
) -> None:
    assert get(sandbox, query).status_code == 400


@pytest.mark.parametrize("status", [404, 400])
def test_unknown_jobs_are_answered_with_the_chosen_status(
    clock: time_machine.Traveller, status: Any
) -> None:
    with AlationSandbox(unknown_status=status) as sandbox:
        response = get(sandbox, "id=7")  # in the gap
        assert response.status_code == status
        assert "detail" in response.json()


def test_jobs_run_then_end_and_appear_as_the_clock_moves(
    sandbox: AlationSandbox, clock: time_machine.Traveller
) -> None:
    assert get(sandbox, "id=9").json() == {"status": "running", "msg": "", "result": ""}
    assert get(sandbox, "id=11").status_code == 404

    clock.shift(3600)

    ended = get(sandbox, "id=9").json()
    assert ended["status"] == "successful"
    assert ended["msg"].startswith("Job finished in 1200.0 seconds at ")
    assert ended["result"].startswith("Bulk Query Ingestion Succeeded: ")
    assert get(sandbox, "id=11").json()["status"] == "successful"


def test_the_sandbox_clock_alone_can_move(sandbox: AlationSandbox) -> None:
    sandbox.clock.advance(3600)

    assert get(sandbox, "id=9").json()["status"] == "successful"


def test_results_are_json_documents_encoded_in_strings_with_non_ascii_escaped_twice(
    sandbox: AlationSandbox,
) -> None:
    raw = get(sandbox, "id=4").text

    assert "\\\\u00e9" in raw, "the body escapes the backslash of the result's own escape"
    document = json.loads(get(sandbox, "id=4").json()["result"])
    assert document["error_objects"][1] == "Ligne 7. Clé : 5.données.clients — objet introuvable"
    assert document["updated_objects"] + 2 == document["number_received"]


def test_history_is_a_function_of_jobs_seed_anchor_and_now(clock: time_machine.Traveller) -> None:
    with AlationSandbox() as one, AlationSandbox(anchor=one.anchor) as two:
        assert [one.answer(job_id=n) for n in one.all_ids()] == [
            two.answer(job_id=n) for n in two.all_ids()
        ]
        assert one.job_names() == two.job_names()


def test_a_name_job_carries_its_creation_time_in_its_name(clock: time_machine.Traveller) -> None:
    with AlationSandbox(jobs=(JobSpec("metadata", -60, 5.0, datasource=4),), documented=False) as s:
        (name,) = s.job_names()
        assert name.startswith(
            f"MetadataExtraction#4_{s.anchor.subtract(minutes=1):YYYY-MM-DD-HH-mm-ss}-000000-00-00-"
        )


def test_a_refresh_token_and_its_user_mint_a_token_that_opens_the_job_endpoint(
    sandbox: AlationSandbox,
) -> None:
    body = {"refresh_token": sandbox.refresh_token, "user_id": sandbox.user_id}
    minted = requests.post(f"{sandbox.base_url}{TOKEN}", json=body, timeout=5)

    assert minted.status_code == 201
    token = minted.json()["api_access_token"]
    assert get(sandbox, "id=1", token=token).status_code == 200
    sandbox.expire_tokens()
    assert get(sandbox, "id=1", token=token).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"refresh_token": "wrong", "user_id": 7},
        {"refresh_token": "sandbox-alation-refresh-token", "user_id": 8},
    ],
)
def test_a_wrong_refresh_token_or_user_is_refused(
    sandbox: AlationSandbox, body: dict[str, Any]
) -> None:
    response = requests.post(f"{sandbox.base_url}{TOKEN}", json=body, timeout=5)

    assert response.status_code == 401
    assert sandbox.issued_tokens == []


def test_more_requests_in_a_second_than_allowed_are_refused_and_recorded(
    clock: time_machine.Traveller,
) -> None:
    with AlationSandbox(requests_per_second=3) as sandbox:
        statuses = [get(sandbox, "id=1").status_code for _ in range(5)]

        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses[3:]
        assert sandbox.violations


def test_concurrent_requests_are_refused_and_recorded(clock: time_machine.Traveller) -> None:
    with AlationSandbox(requests_per_second=1000, latency_seconds=0.2) as sandbox:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: get(sandbox, "id=1").status_code, range(4)))

        assert 429 in statuses
        assert any("in flight" in v for v in sandbox.violations)


def test_kit_faults_apply_to_the_job_endpoint(sandbox: AlationSandbox) -> None:
    sandbox.inject(JOB, Fault.unauthorized())

    response = get(sandbox, "id=1")

    assert (response.status_code, response.json()) == (401, {"detail": "Authentication failed"})
    assert get(sandbox, "id=1").status_code == 200
