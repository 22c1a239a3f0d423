"""Serial, rate-limited requests, for vendors whose API guidance asks for both.

The limit is applied in the transport (`http.ThrottledAdapter`), below dlt's retries and below the
re-send of a token-exchange auth: every attempt that reaches the network takes its turn, which a
limit around the client's calls could not promise. No library in the dependency set does this.
"""

from __future__ import annotations

import threading
import time

# Waiting on an Event, not `time.sleep`: tests that record retry waits by replacing
# `time.sleep` must not switch the rate limit off.
_pause = threading.Event().wait


class RateLimiter:
    """At most one request in flight, and the next one starts at least `1 / requests_per_second`
    after the previous one *ended*: measured from the end, a request can never reach the server
    sooner than that after the one before it, whatever the network delays."""

    def __init__(self, requests_per_second: float) -> None:
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
        self.interval = 1.0 / requests_per_second
        self._lock = threading.Lock()
        self._next_start = 0.0

    def __enter__(self) -> RateLimiter:
        self._lock.acquire()
        delay = self._next_start - time.monotonic()
        if delay > 0:
            _pause(delay)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._next_start = time.monotonic() + self.interval
        self._lock.release()
