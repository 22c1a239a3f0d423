-- grain: one row per successful run with a duration, started at or before as_of, that has at
-- least 3 earlier successful runs with a duration: its baseline (up to 20 of them) and verdict
with candidates as (
    select
        run_key,
        job_key,
        started_at,
        duration_seconds,
        row_number() over (partition by job_key order by started_at, run_key) as success_number
    from {{ ref('int_runs_as_of') }}
    where status = 'success' and duration_seconds is not null
),

baselines as (
    {{ jobpulse_baseline_stats('candidates', 20) }}
),

scored as (
    select
        candidates.run_key,
        candidates.job_key,
        candidates.started_at,
        candidates.duration_seconds,
        baselines.baseline_runs,
        baselines.baseline_median_seconds,
        baselines.mad_seconds,
        candidates.duration_seconds / nullif(baselines.baseline_median_seconds, 0)
            as ratio_to_median,
        case
            when baselines.mad_seconds > 0
                then (candidates.duration_seconds - baselines.baseline_median_seconds)
                    / (1.4826 * baselines.mad_seconds)
        end as robust_z
    from candidates
    inner join baselines
        on candidates.run_key = baselines.run_key
    where baselines.baseline_runs >= 3
),

final as (
    select
        *,
        (
            duration_seconds > 1.5 * baseline_median_seconds
            or coalesce(robust_z > 3.5, false)
        ) as is_regression
    from scored
)

select * from final
