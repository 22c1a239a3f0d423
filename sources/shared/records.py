"""`Record`: one JSON object as a vendor's API sends it, or a row built from one."""

from __future__ import annotations

from typing import Any, TypeAlias

Record: TypeAlias = dict[str, Any]
