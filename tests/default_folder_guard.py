"""pytest plugin for `test_default_folder.py`: dlt's default data folder moved to a folder the
test watches (`JOBPULSE_TEST_DEFAULT_DLT_DIR`).

dlt uses its default folder (~/.dlt, /var/dlt for root) for whatever no DLT_DATA_DIR redirects;
as root it ignores HOME, so pointing HOME elsewhere would not make it watchable on its own.
"""

from __future__ import annotations

import os

import pytest
from dlt.common.runtime import run_context


def pytest_configure(config: pytest.Config) -> None:
    folder = os.environ["JOBPULSE_TEST_DEFAULT_DLT_DIR"]
    run_context.global_dir = lambda: folder
