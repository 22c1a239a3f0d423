"""The vendor sources jobpulse knows: how to build each one, check it, and emulate it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jobpulse.pipelines.settings_check import SourceFactory
from jobpulse.sources.alation import alation_source
from jobpulse.sources.alation import sandbox as alation_sandbox
from jobpulse.sources.alation.check import check_alation
from jobpulse.sources.mparticle import mparticle_source
from jobpulse.sources.mparticle import sandbox as mparticle_sandbox
from jobpulse.sources.mparticle.check import check_mparticle
from jobpulse.sources.snowplow import sandbox as snowplow_sandbox
from jobpulse.sources.snowplow.check import check_snowplow
from jobpulse.sources.snowplow.event_specs import snowplow_sources
from jobpulse.sources.tailer import sandbox as tailer_sandbox
from jobpulse.sources.tailer import tailer_source
from jobpulse.sources.tailer.check import check_tailer


class Sandbox(Protocol):
    """What the CLI needs of a vendor emulator."""

    def start(self) -> Any: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class VendorSource:
    name: str
    make_source: SourceFactory
    """The source, or the sources loaded together in the vendor's one pipeline run."""
    check: Callable[[], str]
    make_sandbox: Callable[[int], Sandbox]
    sandbox_settings: Callable[[Any], dict[str, str]]
    """The settings (environment form) that point this source at a running sandbox."""


def _snowplow_sandbox_settings(sandbox: snowplow_sandbox.SnowplowSandbox) -> dict[str, str]:
    settings = sandbox.source_settings()
    return {f"SOURCES__SNOWPLOW__{key.upper()}": str(value) for key, value in settings.items()}


def _tailer_sandbox_settings(sandbox: tailer_sandbox.TailerSandbox) -> dict[str, str]:
    settings = sandbox.source_settings()
    return {f"SOURCES__TAILER__{key.upper()}": str(value) for key, value in settings.items()}


def _alation_sandbox_settings(sandbox: alation_sandbox.AlationSandbox) -> dict[str, str]:
    settings = sandbox.source_settings()
    return {
        f"SOURCES__ALATION__{key.upper()}": json.dumps(value)
        if isinstance(value, list)
        else str(value)
        for key, value in settings.items()
    }


def _mparticle_sandbox_settings(sandbox: mparticle_sandbox.MparticleSandbox) -> dict[str, str]:
    settings = sandbox.source_settings()
    return {f"SOURCES__MPARTICLE__{key.upper()}": str(value) for key, value in settings.items()}


SOURCES: dict[str, VendorSource] = {
    "snowplow": VendorSource(
        name="snowplow",
        make_source=snowplow_sources,
        check=check_snowplow,
        make_sandbox=lambda port: snowplow_sandbox.SnowplowSandbox(port=port),
        sandbox_settings=_snowplow_sandbox_settings,
    ),
    "tailer": VendorSource(
        name="tailer",
        make_source=tailer_source,
        check=check_tailer,
        make_sandbox=lambda port: tailer_sandbox.TailerSandbox(port=port),
        sandbox_settings=_tailer_sandbox_settings,
    ),
    "alation": VendorSource(
        name="alation",
        make_source=alation_source,
        check=check_alation,
        make_sandbox=lambda port: alation_sandbox.AlationSandbox(port=port),
        sandbox_settings=_alation_sandbox_settings,
    ),
    "mparticle": VendorSource(
        name="mparticle",
        make_source=mparticle_source,
        check=check_mparticle,
        make_sandbox=lambda port: mparticle_sandbox.MparticleSandbox(port=port),
        sandbox_settings=_mparticle_sandbox_settings,
    ),
}
