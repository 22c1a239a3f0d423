"""Fixtures for the shared-helpers tests: isolated secrets, fast retries, recorded waits."""

from __future__ import annotations

import dataclasses
import time

import pytest

from sources.shared import redaction


@dataclasses.dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 3
    backoff_factor: float = 0.5
    max_retry_delay: float = 5.0


@pytest.fixture(autouse=True)
def isolated_secrets(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """A fresh registry per test, so a secret registered by one test cannot make another pass."""
    secrets: set[str] = set()
    monkeypatch.setattr(redaction, "_secrets", secrets)
    return secrets


@pytest.fixture
def retry_config(monkeypatch: pytest.MonkeyPatch) -> RetrySettings:
    """dlt's retry settings, read when a VendorClient is constructed: construct it afterwards."""
    settings = RetrySettings()
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", str(settings.max_attempts))
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", str(settings.backoff_factor))
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", str(settings.max_retry_delay))
    return settings


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every `time.sleep` (tenacity's wait between attempts) recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(time, "sleep", recorded.append)
    return recorded
