"""The vendor sources jobpulse knows: how to build each one, check it, and emulate it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dlt.extract.source import DltSource

from jobpulse.sources.snowplow import sandbox as snowplow_sandbox
from jobpulse.sources.snowplow.check import check_snowplow
from jobpulse.sources.snowplow.event_specs import snowplow_sources


class Sandbox(Protocol):
    """What the CLI needs of a vendor emulator."""

    def start(self) -> Any: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class VendorSource:
    name: str
    make_source: Callable[[], DltSource | list[DltSource]]
    """The source, or the sources loaded together in the vendor's one pipeline run."""
    check: Callable[[], str]
    make_sandbox: Callable[[int], Sandbox]
    sandbox_settings: Callable[[Any], dict[str, str]]
    """The settings (environment form) that point this source at a running sandbox."""


def _snowplow_sandbox_settings(sandbox: snowplow_sandbox.SnowplowSandbox) -> dict[str, str]:
    settings = sandbox.source_settings()
    return {f"SOURCES__SNOWPLOW__{key.upper()}": str(value) for key, value in settings.items()}


SOURCES: dict[str, VendorSource] = {
    "snowplow": VendorSource(
        name="snowplow",
        make_source=snowplow_sources,
        check=check_snowplow,
        make_sandbox=lambda port: snowplow_sandbox.SnowplowSandbox(port=port),
        sandbox_settings=_snowplow_sandbox_settings,
    ),
}
