"""The shared sandbox kit: routing, faults, latency, request log, clock and lifecycle."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
import requests
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.shared.sandbox import ApiError, Fault, Sandbox, SandboxClock


class ItemsSandbox(Sandbox):
    """A two-route API, enough to exercise everything the kit adds."""

    vendor = "Items"
    url_map = Map(
        [
            Rule("/api/items", endpoint="items", methods=["GET"]),
            Rule("/api/items/<path:name>", endpoint="item", methods=["GET", "POST"]),
        ]
    )

    def on_items(self, request: Request) -> Any:
        return {"items": ["a", "b/c"], "now": self.clock.now().isoformat()}

    def on_item(self, request: Request, name: str) -> Any:
        if name == "missing":
            raise ApiError(404, f"item {name} not found")
        return {"name": name, "posted": request.get_json(silent=True)}

    def error_body(self, status: int, message: str) -> Any:
        return {"detail": message, "status": status}


@pytest.fixture
def sandbox() -> Iterator[ItemsSandbox]:
    with ItemsSandbox() as started:
        yield started


def get(sandbox: Sandbox, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{sandbox.base_url}{path}", timeout=5, **kwargs)


def test_routes_answer_json_and_percent_encoded_slashes_reach_the_handler(
    sandbox: ItemsSandbox,
) -> None:
    assert get(sandbox, "/api/items").json()["items"] == ["a", "b/c"]
    response = get(sandbox, "/api/items/b%2Fc")
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["name"] == "b/c"


def test_unknown_route_wrong_method_and_api_errors_use_the_vendor_error_body(
    sandbox: ItemsSandbox,
) -> None:
    assert get(sandbox, "/nowhere").json()["status"] == 404
    refused = requests.delete(f"{sandbox.base_url}/api/items", timeout=5)
    assert refused.status_code == 405
    missing = get(sandbox, "/api/items/missing")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "item missing not found", "status": 404},
    )


def test_request_log_records_method_decoded_path_query_status_and_json_body(
    sandbox: ItemsSandbox,
) -> None:
    requests.post(f"{sandbox.base_url}/api/items/x%20y?q=1", json={"k": 2}, timeout=5)
    (recorded,) = sandbox.requests
    assert (recorded.method, recorded.path, recorded.query, recorded.status, recorded.json) == (
        "POST",
        "/api/items/x y",
        {"q": "1"},
        200,
        {"k": 2},
    )


def test_a_status_fault_answers_the_given_count_then_service_resumes(
    sandbox: ItemsSandbox,
) -> None:
    sandbox.inject("/api/items", Fault.status_code(429, headers={"Retry-After": "3"}), times=2)
    first, second, third = (get(sandbox, "/api/items") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "3"
    assert first.json() == {"detail": "injected HTTP 429", "status": 429}


def test_a_fault_only_hits_paths_matching_its_pattern(sandbox: ItemsSandbox) -> None:
    sandbox.inject("/api/items/*", Fault.status_code(503), times=None)
    assert get(sandbox, "/api/items").status_code == 200
    assert get(sandbox, "/api/items/a").status_code == 503
    assert get(sandbox, "/api/items/b").status_code == 503
    sandbox.clear_faults()
    assert get(sandbox, "/api/items/a").status_code == 200


def test_a_status_fault_with_a_body_sends_that_body(sandbox: ItemsSandbox) -> None:
    sandbox.inject("*", Fault.status_code(500, body='{"message": "boom"}'))
    assert get(sandbox, "/api/items").json() == {"message": "boom"}


def test_a_reset_drops_the_connection_without_an_answer(sandbox: ItemsSandbox) -> None:
    sandbox.inject("/api/items", Fault.reset())
    with pytest.raises(requests.ConnectionError):
        get(sandbox, "/api/items")
    assert get(sandbox, "/api/items").status_code == 200
    assert sandbox.requests[0].status == 0


def test_a_delay_outlasts_the_client_timeout_then_answers_normally(
    sandbox: ItemsSandbox,
) -> None:
    sandbox.inject("/api/items", Fault.delay(0.5))
    with pytest.raises(requests.Timeout):
        requests.get(f"{sandbox.base_url}/api/items", timeout=0.1)
    assert get(sandbox, "/api/items").status_code == 200


def test_a_truncated_json_fault_sends_half_the_real_body_with_status_200(
    sandbox: ItemsSandbox,
) -> None:
    whole = get(sandbox, "/api/items").content
    sandbox.inject("/api/items", Fault.truncated_json())
    cut = get(sandbox, "/api/items")
    assert cut.status_code == 200
    assert whole.startswith(cut.content)
    assert len(cut.content) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)


def test_an_html_page_fault_answers_200_with_html(sandbox: ItemsSandbox) -> None:
    sandbox.inject("*", Fault.html_page())
    page = get(sandbox, "/api/items")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>")


def test_an_unauthorized_fault_answers_401_with_the_vendor_body(sandbox: ItemsSandbox) -> None:
    sandbox.inject("*", Fault.unauthorized())
    denied = get(sandbox, "/api/items")
    assert denied.status_code == 401
    assert denied.json()["status"] == 401


def test_latency_delays_every_answer(sandbox: ItemsSandbox) -> None:
    sandbox.latency_seconds = 0.2
    started = time.perf_counter()
    get(sandbox, "/api/items")
    assert time.perf_counter() - started >= 0.2


def test_the_clock_follows_the_wall_clock_and_advances_for_the_sandbox_alone(
    sandbox: ItemsSandbox,
) -> None:
    before = pendulum.now("UTC")
    sandbox.clock.advance(3600)
    seen = pendulum.parse(get(sandbox, "/api/items").json()["now"])
    assert isinstance(seen, pendulum.DateTime)
    assert 3600 <= (seen - before).total_seconds() < 3660


def test_a_frozen_clock_holds_still_and_still_advances() -> None:
    instant = pendulum.datetime(2026, 3, 2, 12, 30, 0)
    clock = SandboxClock(frozen_at=instant)
    time.sleep(0.01)
    assert clock.now() == instant
    clock.advance(90)
    assert clock.now() == instant.add(seconds=90)


def test_connections_are_kept_alive_and_closed_by_stop() -> None:
    sandbox = ItemsSandbox().start()
    connection = http.client.HTTPConnection(sandbox.base_url.removeprefix("http://"), timeout=5)
    for _ in range(2):
        connection.request("GET", "/api/items")
        assert connection.getresponse().read()
    kept = connection.sock
    assert kept is not None, "the connection stayed open between the two answers"
    sandbox.stop()
    assert kept.recv(1) == b"", "stop() closed the kept-alive connection"
    connection.close()


def test_a_client_that_hangs_up_mid_request_prints_no_traceback(
    sandbox: ItemsSandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    sandbox.inject("/api/items", Fault.delay(0.3))
    host, port = sandbox.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"GET /api/items HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # the sandbox writes its answer to a closed connection meanwhile
    assert get(sandbox, "/api/items").status_code == 200
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
