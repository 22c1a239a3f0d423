-- grain: one row per job and UTC day with at least one run started that day (and at or before as_of)
with runs as (
    select
        *,
        {{ jobpulse_utc_day('started_at') }} as day
    from {{ ref('int_runs_as_of') }}
),

daily as (
    select
        job_key,
        day,
        count(*) as runs,
        count(*) filter (where status = 'success') as successes,
        count(*) filter (where status = 'failed') as failures,
        percentile_cont(0.5) within group (order by duration_seconds)
            filter (where status = 'success') as p50_duration_seconds,
        percentile_cont(0.95) within group (order by duration_seconds)
            filter (where status = 'success') as p95_duration_seconds,
        max(duration_seconds) filter (where status = 'success') as max_duration_seconds
    from runs
    group by job_key, day
),

final as (
    select
        job_key,
        day,
        runs,
        successes,
        failures,
        cast(successes as double precision) / nullif(successes + failures, 0) as success_rate,
        p50_duration_seconds,
        p95_duration_seconds,
        max_duration_seconds
    from daily
)

select * from final
