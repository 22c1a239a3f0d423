"""AdaptiveLimiter: fewer requests in flight after 429s, a Retry-After holds all back, recovery."""

from __future__ import annotations

import threading

import pytest

from jobpulse.sources.shared.throttle import AdaptiveLimiter, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _acquire_in_a_thread(limiter: AdaptiveLimiter) -> tuple[threading.Thread, threading.Event]:
    started = threading.Event()

    def acquire() -> None:
        limiter.acquire()
        started.set()

    thread = threading.Thread(target=acquire)
    thread.start()
    return thread, started


def _answer(limiter: AdaptiveLimiter, count: int) -> None:
    for _ in range(count):
        limiter.release(limiter.acquire(), "answered", None)


def test_starts_at_the_ceiling_and_a_burst_of_429s_halves_the_limit_once() -> None:
    limiter = AdaptiveLimiter(16)
    rounds = [limiter.acquire() for _ in range(16)]
    assert limiter.limit == 16

    for started in rounds[:10]:  # ten answers to requests sent before the first 429 arrived
        limiter.release(started, "throttled", None)

    assert limiter.limit == 8


def test_a_429_to_a_request_sent_after_a_decrease_halves_again() -> None:
    limiter = AdaptiveLimiter(16)
    limiter.release(limiter.acquire(), "throttled", None)
    limiter.release(limiter.acquire(), "throttled", None)
    assert limiter.limit == 4


def test_never_below_one_in_flight() -> None:
    limiter = AdaptiveLimiter(4)
    for _ in range(5):
        limiter.release(limiter.acquire(), "throttled", None)
    assert limiter.limit == 1


def test_recovers_by_one_per_limit_answers_in_a_row_up_to_the_ceiling() -> None:
    limiter = AdaptiveLimiter(16)
    limiter.release(limiter.acquire(), "throttled", None)
    assert limiter.limit == 8
    _answer(limiter, 7)
    assert limiter.limit == 8
    _answer(limiter, 1)
    assert limiter.limit == 9
    _answer(limiter, 9 + 10 + 11 + 12 + 13 + 14 + 15 + 100)
    assert limiter.limit == 16


@pytest.mark.parametrize("outcome", ["throttled", "failed"])
def test_answers_in_a_row_restart_after_a_429_and_errors_do_not_count(outcome: str) -> None:
    limiter = AdaptiveLimiter(16)
    limiter.release(limiter.acquire(), "throttled", None)
    _answer(limiter, 7)
    limiter.release(limiter.acquire(), outcome, None)  # type: ignore[arg-type]
    _answer(limiter, 1)
    assert limiter.limit == (4 if outcome == "throttled" else 9)


def test_retry_after_holds_back_every_new_request_capped_at_max_pause() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(16, max_pause=30, clock=clock)
    limiter.release(limiter.acquire(), "throttled", 2)
    assert limiter.resume_at == 102.0
    limiter.release(0, "throttled", 3600)  # an old round: no decrease, but the pause is honoured
    assert limiter.resume_at == 130.0
    assert limiter.limit == 8


def test_acquire_waits_while_the_pause_lasts() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(2, clock=clock)
    limiter.release(limiter.acquire(), "throttled", 0.5)  # waits re-check the clock this often
    waiter, started = _acquire_in_a_thread(limiter)
    assert not started.wait(0.2)
    clock.now += 0.5
    waiter.join()
    assert started.is_set()


def test_acquire_waits_for_a_free_slot() -> None:
    limiter = AdaptiveLimiter(1)
    first = limiter.acquire()
    waiter, started = _acquire_in_a_thread(limiter)
    assert not started.wait(0.2)
    limiter.release(first, "answered", None)
    waiter.join()
    assert limiter.in_flight == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        (" 7 ", 7.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0),  # 100 s after the epoch, "now" is 60
        ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_as_seconds_or_http_date(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header, now=lambda: 60.0) == expected
