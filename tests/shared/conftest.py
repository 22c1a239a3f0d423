"""Fixtures for the shared-helpers tests: retry settings small enough to count."""

from __future__ import annotations

import dataclasses

import pytest


@dataclasses.dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 3
    backoff_factor: float = 0.5
    max_retry_delay: float = 5.0


@pytest.fixture
def retry_config(monkeypatch: pytest.MonkeyPatch) -> RetrySettings:
    """dlt's retry settings, read when a VendorClient is constructed: construct it afterwards."""
    settings = RetrySettings()
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", str(settings.max_attempts))
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", str(settings.backoff_factor))
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", str(settings.max_retry_delay))
    return settings
