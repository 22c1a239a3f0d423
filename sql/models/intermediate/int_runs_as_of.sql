-- grain: one row per run started at or before as_of, numbered in its job's order
-- ("last" orders by started_at; equal starts by run_key)
with runs as (
    select * from {{ ref('fct_job_runs') }}
),

final as (
    select
        run_key,
        source_system,
        job_key,
        job_name,
        status,
        started_at,
        ended_at,
        duration_seconds,
        row_number() over (partition by job_key order by started_at, run_key) as run_number,
        started_at > {{ jobpulse_window_start(7) }} as is_in_7d,
        started_at > {{ jobpulse_window_start(30) }} as is_in_30d
    from runs
    where started_at <= {{ jobpulse_as_of() }}
)

select * from final
