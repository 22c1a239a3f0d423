"""jobpulse's dbt project: staging views and reliability marts on the raw job-run tables.

The folder is a dbt project (`dbt_project.yml`, `models/`, `macros/`) shipped as package data;
`PROJECT_DIR` is where it is installed. `profiles/` holds the dbt profiles jobpulse runs it with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent
PROFILES_DIR: Final = PROJECT_DIR / "profiles"
