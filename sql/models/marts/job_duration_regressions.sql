-- grain: one row per successful run (started at or before as_of) slower than its own baseline
with baselines as (
    select * from {{ ref('int_duration_baselines') }}
),

final as (
    select
        run_key,
        job_key,
        started_at,
        duration_seconds,
        baseline_median_seconds,
        ratio_to_median,
        robust_z,
        baseline_runs,
        mad_seconds
    from baselines
    where is_regression
)

select * from final
