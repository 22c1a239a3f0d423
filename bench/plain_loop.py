"""The yardstick for client CPU: a plain sequential `requests` loop, nothing else.

Reads a JSON file `{"token_url": ..., "token_headers": {...}, "urls": [...]}`, gets a token, then
GETs every URL one after another on one `requests.Session` with its defaults, decoding each JSON
body. Prints `{"requests": n, "cpu_s": ..., "wall_s": ...}` for the loop alone (imports and the
token request aside), so its CPU per request compares with the extract phase of a load.

    python -m bench.plain_loop urls.json
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    plan = json.loads(Path(args[0]).read_text())
    session = requests.Session()
    token = session.get(plan["token_url"], headers=plan["token_headers"]).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    cpu, wall = time.process_time(), time.perf_counter()
    for url in plan["urls"]:
        response = session.get(url, headers=headers)
        response.raise_for_status()
        response.json()
    report = {
        "requests": len(plan["urls"]),
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
    }
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
