"""The Snowplow histories the benchmarks load, built from the sandbox's own job specs.

- `backfill`: the sandbox's four default jobs, scheduled 11x as often: about 3,600 runs in the
  week a first load lists (about 3.4 steps each; the e-commerce job always fails with an 80 kB
  log, the mobile one a third of the time), so about 4,000 requests.
- `burst`: one job started every minute: about 10,000 runs in a week, one step each.
"""

from __future__ import annotations

import dataclasses
from typing import Final

import pendulum

from jobpulse.sources.snowplow.sandbox import DEFAULT_JOBS, JobSpec, StepSpec

SCHEDULE_SPEED_UP: Final = 11


def _faster(job: JobSpec) -> JobSpec:
    every = int(job.every.total_seconds()) // SCHEDULE_SPEED_UP
    offset = int(job.offset.total_seconds()) % every
    return dataclasses.replace(
        job, every=pendulum.duration(seconds=every), offset=pendulum.duration(seconds=offset)
    )


BURST_JOB: Final = JobSpec(
    job_id="b0b0b0b0-0000-4000-8000-00000000b057",
    job_name="Every-minute export",
    environment="prod",
    every=pendulum.duration(minutes=1),
    offset=pendulum.duration(seconds=7),
    failure_rate=0.0,
    steps=(StepSpec("export", (), 20),),
)

SCENARIOS: Final[dict[str, tuple[JobSpec, ...]]] = {
    "backfill": tuple(_faster(job) for job in DEFAULT_JOBS),
    "burst": (BURST_JOB,),
}
