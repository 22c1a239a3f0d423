"""jobpulse's defaults for dlt settings, in code: the wheel does not ship the repository's .dlt/.

They are served by a dlt config provider placed after every other one, so any setting the user
makes (environment, .dlt/*.toml, a vault) wins, and dlt's own defaults apply to nothing listed here.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Final

from dlt.common.configuration.container import Container
from dlt.common.configuration.providers import DictionaryProvider
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.runtime.telemetry import stop_telemetry

DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "runtime": {
        "log_level": "WARNING",
        # dlt's default cap on one wait is 300 s; a vendor's Retry-After above a minute is capped.
        "request_max_attempts": 5,
        "request_backoff_factor": 1,
        "request_max_retry_delay": 60,
        "request_timeout": 60,
        # dlt switches its telemetry on unless told otherwise; jobpulse never does by itself.
        "dlthub_telemetry": False,
    },
    "extract": {"workers": 16},
    # dlt buffers up to 5,000 rows per table before writing them to a file (extract, normalize):
    # with step logs of up to 128 kB a row, that held every log of a backfill in memory at once.
    # 100 rows keep memory flat in the number of runs at no measurable CPU cost (bench/README.md).
    "data_writer": {"buffer_max_items": 100},
}


# pyarrow, which dlt's parquet writer (DuckDB's load files) imports, allocates from its own
# mimalloc pool by default, and keeps what normalize freed there for the rest of the process, all
# through DuckDB's load phase; the system allocator gives it back. A 3,700-run backfill peaked at
# 292-303 MB instead of 343-351 (bench/README.md). pyarrow reads it when it first allocates, so it
# is set before any load runs; a value the user set is kept.
ARROW_MEMORY_POOL: Final = ("ARROW_DEFAULT_MEMORY_POOL", "system")


class JobpulseDefaults(DictionaryProvider):
    NAME: ClassVar[str] = "jobpulse defaults"

    def __init__(self) -> None:
        super().__init__()
        self._config_doc = {section: dict(values) for section, values in DEFAULTS.items()}

    @property
    def name(self) -> str:
        return self.NAME


def install_defaults() -> None:
    """Serve DEFAULTS to dlt with the lowest priority, and choose pyarrow's allocator
    (ARROW_MEMORY_POOL); calling it again changes nothing."""
    os.environ.setdefault(*ARROW_MEMORY_POOL)
    # Reaching the run context makes dlt start its runtime (logging, request settings,
    # telemetry) with the settings it finds then, before these defaults are served...
    context = Container()[PluggableRunContext]
    if JobpulseDefaults.NAME not in context.providers:
        context.providers.add_provider(JobpulseDefaults())
        # ...so it is started again with them: telemetry stays off unless the user turns it on.
        stop_telemetry()
        context.initialize_runtime()
