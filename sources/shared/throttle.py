"""How many requests one vendor client has in flight: as many as allowed until the vendor answers
429, then fewer, and more again while it keeps answering.

Vendors here publish no rate limit, so the client cannot be configured to stay under one; it
learns it instead, the way TCP does (additive increase, multiplicative decrease):

- it starts at `ceiling` requests in flight (dlt's `extract.workers`);
- a 429 halves the limit, once per round: 429s to requests that started before the last
  decrease are the same overload, not a new one, so a burst of them halves it once;
- a 429's `Retry-After` (seconds or an HTTP date) holds back every new request until it has
  passed, capped at `max_pause` seconds: the vendor asked the client, not just one request, to
  wait. dlt's retry of the throttled request waits for it too;
- each `limit` answers in a row without a 429 raise the limit by one, up to `ceiling`.

dlt's retry settings still decide how often one request is tried; this decides how many go at once.
Hand-written because neither requests, urllib3 nor dlt adapt concurrency (urllib3's `Retry` and
dlt's tenacity retries act on one request at a time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import mktime_tz, parsedate_tz
from typing import Literal

Outcome = Literal["answered", "throttled", "failed"]


class AdaptiveLimiter:
    """A semaphore whose size follows the vendor's 429s; thread-safe."""

    def __init__(
        self,
        ceiling: int,
        *,
        max_pause: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, got {ceiling}")
        self.ceiling = ceiling
        self.limit = ceiling
        self.in_flight = 0
        self.resume_at = 0.0  # no request starts before this instant of `clock`
        self.max_pause = max_pause
        self._clock = clock
        self._round = 0  # bumped by every decrease
        self._answered_in_a_row = 0
        self._changed = threading.Condition()

    def acquire(self) -> int:
        """Wait for a free slot (and for any Retry-After to pass); return the current round."""
        with self._changed:
            while True:
                wait = self.resume_at - self._clock()
                if wait <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    return self._round
                self._changed.wait(timeout=wait if wait > 0 else None)

    def release(self, round_started: int, outcome: Outcome, retry_after: float | None) -> None:
        """Free a slot; `round_started` is what `acquire` returned for this request."""
        with self._changed:
            self.in_flight -= 1
            if outcome == "throttled":
                self._answered_in_a_row = 0
                if round_started == self._round:
                    self.limit = max(1, self.limit // 2)
                    self._round += 1
                if retry_after is not None and retry_after > 0:
                    pause = min(retry_after, self.max_pause)
                    self.resume_at = max(self.resume_at, self._clock() + pause)
            elif outcome == "answered":
                self._answered_in_a_row += 1
                if self._answered_in_a_row >= self.limit and self.limit < self.ceiling:
                    self.limit += 1
                    self._answered_in_a_row = 0
            self._changed.notify_all()


def retry_after_seconds(header: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date); None if absent or bad."""
    if not header:
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, mktime_tz(parsed) - now())
