"""One load per pipeline at a time, across processes: an advisory file lock per pipeline.

Two loads of one pipeline at once break inside dlt (they share the working folder, its load
packages and its schema files) and, on DuckDB, on the database file's own lock. The second load
must instead stop at once, or wait when asked to.

The lock is `fcntl.flock` on `<pipelines dir>/<pipeline name>.lock`, from the standard library:
the kernel releases it when its process ends in any way, SIGKILL and power loss included, so a
killed load never leaves a stale lock behind (a PID or marker file would, after exactly the
crashes a scheduler retries). The `filelock` package would add a dependency for the same call on
POSIX. The file sits beside the pipeline's working folder, not inside it, because dlt deletes and
recreates that folder when it restores a pipeline from the destination, which would leave two
loads holding locks on two different files.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

EX_TEMPFAIL = 75
"""Exit code of a load that did not start because another one holds its lock (sysexits.h)."""

_POLL_SECONDS = 0.2


class LoadLocked(Exception):
    """Another process is loading this pipeline."""

    def __init__(self, pipeline_name: str, lock_file: Path, waited: float) -> None:
        self.pipeline_name = pipeline_name
        self.lock_file = lock_file
        self.waited = waited
        after = f" after waiting {waited:g} s" if waited else ""
        super().__init__(f"another load of {pipeline_name} is running (lock {lock_file}){after}")


def lock_path(pipelines_dir: str, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f"{pipeline_name}.lock"


@contextmanager
def pipeline_lock(
    pipelines_dir: str,
    pipeline_name: str,
    wait_seconds: float = 0,
    on_wait: Callable[[Path], None] | None = None,
) -> Iterator[Path]:
    """Hold the pipeline's lock for the block; raise `LoadLocked` if it stays taken.

    With `wait_seconds` 0 the attempt is made once; otherwise it is repeated until the lock is
    free or the time is up, and `on_wait` is called once, when the wait begins.
    """
    path = lock_path(pipelines_dir, pipeline_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(descriptor, pipeline_name, path, wait_seconds, on_wait)
        try:
            yield path
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _acquire(
    descriptor: int,
    pipeline_name: str,
    path: Path,
    wait_seconds: float,
    on_wait: Callable[[Path], None] | None,
) -> None:
    # Polling with LOCK_NB rather than one blocking flock: a blocking call cannot time out.
    deadline = time.monotonic() + wait_seconds
    waiting = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoadLocked(pipeline_name, path, wait_seconds) from None
            if not waiting and on_wait is not None:
                on_wait(path)
            waiting = True
            time.sleep(min(_POLL_SECONDS, remaining))
