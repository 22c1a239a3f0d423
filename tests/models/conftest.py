"""Builds of the dbt project shared by the model tests: dbt runs cost seconds, so each module
builds once (scope="module") and many tests read the result."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.pipeline.pipeline import Pipeline


@dataclass
class Built:
    """A raw history loaded into a destination and the models built on it."""

    raw: Pipeline
    marts: str
    exit_code: int
    output: str


@contextlib.contextmanager
def isolated(root: Path) -> Iterator[pytest.MonkeyPatch]:
    """What the autouse isolation does per test, for a module-scoped build: own cwd, dlt data
    dir and settings; and no VIRTUAL_ENV, no venv on PATH (as under cron)."""
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith(("SOURCES__", "DESTINATION__", "DBT_", "RUNTIME__", "VIRTUAL_ENV")):
                patch.delenv(key)
        patch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
        patch.chdir(root)
        patch.setenv("DLT_DATA_DIR", str(root / "dlt-data"))
        patch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        Container()[PluggableRunContext].reload(str(root))
        yield patch
