"""Tests never touch dlt's default data folder (~/.dlt): a real pipeline's state and trace there
are not replaced by a test's.

CLI tests that load and run the demo are run by pytest in a child process whose dlt default
folder, and whose HOME, are folders this test watches.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# dlt 1.31 computes its telemetry id for every pipeline step, telemetry on or off, and so creates
# this file in the default folder whatever DLT_DATA_DIR says (dlt/common/runtime/anon_tracker.py,
# `_create_request_payload`). It holds a random id, nothing of any pipeline.
DLT_TELEMETRY_ID = ".anonymous_id"
# Loads through the CLI, its demo, and a load in a child `jobpulse` process.
CLI_TESTS = "load_writes_jobpulse_duckdb or demo or sandbox_command"


def test_cli_tests_leave_dlts_default_data_folder_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    default_folder = tmp_path / "default-dlt"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DLT_DATA_DIR", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")
    }
    environment |= {
        "HOME": str(home),
        "JOBPULSE_TEST_DEFAULT_DLT_DIR": str(default_folder),
        "PYTHONPATH": str(REPOSITORY),
    }

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.default_folder_guard",
         "--basetemp", str(tmp_path / "child"),
         "tests/test_cli.py", "-k", CLI_TESTS],
        cwd=REPOSITORY, env=environment, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    for folder in (default_folder, home / ".dlt"):
        written = [p.relative_to(folder) for p in folder.rglob("*")] if folder.exists() else []
        assert [str(path) for path in written if path.name != DLT_TELEMETRY_ID] == []
