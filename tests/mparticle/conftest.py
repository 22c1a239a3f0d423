"""Fixtures for the mParticle tests: sandboxes on both spellings, a fresh token cache per test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import time_machine

from jobpulse.sources.mparticle.auth import forget_tokens
from jobpulse.sources.mparticle.sandbox import MparticleSandbox


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    """Tokens are cached per process; each test's sandbox issues its own."""
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[MparticleSandbox]:
    with MparticleSandbox() as started:
        yield started


@pytest.fixture(params=["platform/experimental", "platform/v2"])
def any_sandbox(
    request: pytest.FixtureRequest, clock: time_machine.Traveller
) -> Iterator[MparticleSandbox]:
    """The sandbox with the document's spelling, then with v2's."""
    with MparticleSandbox(api_path=request.param) as started:
        yield started


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's zone is New York: zoneless timestamps must still be read as UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
