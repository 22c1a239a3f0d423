"""A throwaway PostgreSQL server for the destination tests, started from the installed binaries.

pytest-postgresql does the same but cannot drop root privileges, and PostgreSQL refuses to run
as root, which is how CI runs. Here, under root, every server command runs as the `postgres`
system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A throwaway server on loopback for one test session; the password only satisfies dlt.
_PASSWORD = "jobpulse-test"


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for candidate in candidates:
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL server binaries not found: apt-get install -y postgresql")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a server on a free loopback port; yield its DSN; stop it and delete its files."""
    bin_dir = _bin_dir()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="jobpulse-pg-"))
    data = root / "data"
    port = _free_port()
    password_file = root / "password"
    password_file.write_text(_PASSWORD)
    if as_root:
        shutil.chown(root, user="postgres")
        shutil.chown(password_file, user="postgres")
    try:
        subprocess.run(
            [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "-A", "scram-sha-256", f"--pwfile={password_file}"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        options = f"-F -p {port} -k {root} -c listen_addresses=127.0.0.1"
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start",
             "-l", str(root / "server.log")],
            check=True,
            capture_output=True,
        )  # fmt: skip
        try:
            yield f"postgresql://postgres:{_PASSWORD}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
