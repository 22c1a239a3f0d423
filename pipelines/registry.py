"""The vendor sources jobpulse knows: how to build each one, check it, and emulate it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobpulse.pipelines.settings_check import SourceFactory
from jobpulse.sources.alation import alation_source
from jobpulse.sources.alation import sandbox as alation_sandbox
from jobpulse.sources.alation.check import check_alation
from jobpulse.sources.mparticle import mparticle_source
from jobpulse.sources.mparticle import sandbox as mparticle_sandbox
from jobpulse.sources.mparticle.check import check_mparticle
from jobpulse.sources.shared.sandbox import Sandbox
from jobpulse.sources.snowplow import sandbox as snowplow_sandbox
from jobpulse.sources.snowplow.check import check_snowplow
from jobpulse.sources.snowplow.event_specs import snowplow_sources
from jobpulse.sources.tailer import sandbox as tailer_sandbox
from jobpulse.sources.tailer import tailer_source
from jobpulse.sources.tailer.check import check_tailer


@dataclass(frozen=True)
class VendorSource:
    name: str
    make_source: SourceFactory
    """The source, or the sources loaded together in the vendor's one pipeline run."""
    check: Callable[[], str]
    make_sandbox: Callable[[int], Sandbox]
    """The vendor's emulator, unstarted, to serve on the given port (0: any free one)."""

    def sandbox_settings(self, sandbox: Sandbox) -> dict[str, str]:
        """The settings (environment form) that point this source at a running sandbox."""
        return environment_form(self.name, sandbox.source_settings())


def environment_form(source: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """A source's settings as the environment variables dlt reads (`SOURCES__<SOURCE>__<KEY>`);
    lists and tables as JSON, which dlt parses back."""
    return {
        f"SOURCES__{source.upper()}__{key.upper()}": json.dumps(value)
        if isinstance(value, list | dict)
        else str(value)
        for key, value in settings.items()
    }


SOURCES: dict[str, VendorSource] = {
    "snowplow": VendorSource(
        name="snowplow",
        make_source=snowplow_sources,
        check=check_snowplow,
        make_sandbox=lambda port: snowplow_sandbox.SnowplowSandbox(port=port),
    ),
    "tailer": VendorSource(
        name="tailer",
        make_source=tailer_source,
        check=check_tailer,
        make_sandbox=lambda port: tailer_sandbox.TailerSandbox(port=port),
    ),
    "alation": VendorSource(
        name="alation",
        make_source=alation_source,
        check=check_alation,
        make_sandbox=lambda port: alation_sandbox.AlationSandbox(port=port),
    ),
    "mparticle": VendorSource(
        name="mparticle",
        make_source=mparticle_source,
        check=check_mparticle,
        make_sandbox=lambda port: mparticle_sandbox.MparticleSandbox(port=port),
    ),
}
