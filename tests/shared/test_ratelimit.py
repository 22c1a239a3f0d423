"""RateLimiter: one request at a time, the next one `1 / rate` after the previous one ended."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.shared import ratelimit
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.ratelimit import RateLimiter
from jobpulse.sources.shared.sandbox import Fault, Sandbox


class FakeTime:
    """A monotonic clock moved by hand; pauses are recorded and move it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def pause(self, seconds: float) -> bool:
        self.pauses.append(round(seconds, 6))
        self.now += seconds
        return False


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(time, "monotonic", fake.monotonic)
    monkeypatch.setattr(ratelimit, "_pause", fake.pause)
    return fake


def test_the_next_request_waits_the_interval_counted_from_the_end_of_the_previous(
    fake_time: FakeTime,
) -> None:
    limiter = RateLimiter(10)
    with limiter:
        fake_time.now += 0.03  # the request takes 30 ms
    fake_time.now += 0.02  # the caller does something for 20 ms
    with limiter:
        pass

    assert fake_time.pauses == [0.08]


def test_no_wait_when_the_interval_has_already_passed(fake_time: FakeTime) -> None:
    limiter = RateLimiter(4)
    with limiter:
        pass
    fake_time.now += 0.5
    with limiter:
        pass

    assert fake_time.pauses == []


@pytest.mark.parametrize("rate", [0, -1])
def test_a_rate_that_is_not_positive_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RateLimiter(rate)


def test_a_second_request_waits_until_the_first_has_ended() -> None:
    limiter = RateLimiter(1000)
    order: list[str] = []
    first_inside = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with limiter:
            order.append("first in")
            first_inside.set()
            release_first.wait(5)
            order.append("first out")

    def second() -> None:
        first_inside.wait(5)
        with limiter:
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_inside.wait(5)
    release_first.set()
    for thread in threads:
        thread.join(5)

    assert order == ["first in", "first out", "second in"]


class PingSandbox(Sandbox):
    vendor = "Ping"
    url_map = Map([Rule("/ping", endpoint="ping")])

    def on_ping(self, request: Request) -> Any:
        return {"pong": True}


def test_a_vendor_client_with_a_limiter_sends_every_attempt_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter = RateLimiter(1000)
    entered: list[int] = []
    original = RateLimiter.__enter__

    def counting_enter(self: RateLimiter) -> RateLimiter:
        entered.append(1)
        return original(self)

    monkeypatch.setattr(RateLimiter, "__enter__", counting_enter)
    with PingSandbox() as sandbox:
        sandbox.inject("/ping", Fault.status_code(503), times=2)
        client = VendorClient("Ping", sandbox.base_url, limiter=limiter)

        assert client.get_json("ping") == {"pong": True}

    assert len(entered) == 3, "both retried attempts and the answered one"
