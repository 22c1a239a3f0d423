"""`jobpulse` in a child process, as a scheduler runs it, for crash and overlap tests.

Run as `python -m tests.child_load ARGS...`. The environment says:
- `JOBPULSE_TEST_NOW`: the instant (ISO-8601) the child's clock starts at, ticking, so that it
  and the test's sandbox agree on what "now" is;
- `JOBPULSE_TEST_KILL_AT`: a pipeline stage (extract, normalize, load) at which the child kills
  itself with SIGKILL, part way through: after writing the stage's files, before committing them
  (extract, normalize) or after the first completed job (load);
- `JOBPULSE_TEST_PAUSE_AT`: a stage at which the child prints `PAUSED` and waits until its
  standard input is closed, holding whatever the load holds at that point.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pendulum
import time_machine
from dlt.common.storages.load_package import PackageStorage
from dlt.common.storages.load_storage import LoadStorage
from dlt.extract.storage import ExtractStorage

from jobpulse.pipelines.cli import main

REPOSITORY = Path(__file__).resolve().parents[1]

# stage -> (class, method, the call on which to act: 1 = the first)
STAGES: dict[str, tuple[type, str, int]] = {
    "extract": (ExtractStorage, "commit_new_load_package", 1),
    "normalize": (LoadStorage, "commit_new_load_package", 1),
    "load": (PackageStorage, "complete_job", 2),
}


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _pause() -> None:
    print("PAUSED", flush=True)
    sys.stdin.read()


def _hook(stage: str, action: Callable[[], None]) -> None:
    owner, name, on_call = STAGES[stage]
    original = getattr(owner, name)
    calls = 0

    def hooked(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == on_call:
            action()
        return original(*args, **kwargs)

    setattr(owner, name, hooked)


def child_command(*args: str) -> list[str]:
    """The command line that runs `jobpulse ARGS` in a child process through this module."""
    return [sys.executable, "-m", "tests.child_load", *args]


def child_environment(
    settings: Mapping[str, str], now: pendulum.DateTime, dlt_data_dir: Path, **extra: str
) -> dict[str, str]:
    """This process's environment with the sandbox's settings, the clock and a dlt data folder."""
    return {
        **os.environ,
        **settings,
        **extra,
        "JOBPULSE_TEST_NOW": now.isoformat(),
        "DLT_DATA_DIR": str(dlt_data_dir),
        "PYTHONPATH": str(REPOSITORY),
    }


def run(argv: list[str]) -> int:
    if stage := os.environ.get("JOBPULSE_TEST_KILL_AT"):
        _hook(stage, _kill)
    if stage := os.environ.get("JOBPULSE_TEST_PAUSE_AT"):
        _hook(stage, _pause)
    with time_machine.travel(os.environ["JOBPULSE_TEST_NOW"], tick=True):
        return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
