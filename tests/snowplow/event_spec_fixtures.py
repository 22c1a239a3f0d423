"""The event-specifications documentation's example payloads, as fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_DOCUMENTED = Path(__file__).with_name("fixtures") / "event_specs_documented.json"


def documented() -> dict[str, Any]:
    """A fresh copy each call: tests may change it."""
    payloads: dict[str, Any] = json.loads(_DOCUMENTED.read_text())
    return payloads


def documented_spec_with_findings() -> dict[str, Any]:
    """The documented create answer as a single-spec read carrying the documented finding and
    the documented example event (source and schema)."""
    payloads = documented()
    answer: dict[str, Any] = payloads["create_response"]
    answer["data"][0]["event"] = payloads["event"]
    answer["errors"] = payloads["compatibility_errors"]
    return answer
