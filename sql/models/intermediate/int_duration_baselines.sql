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

offsets as (
    -- the previous 20 successful runs: an equi-join on (job, number - k) stays linear in runs
    {%- for k in range(1, 21) %}
    select {{ k }} as k{{ " union all" if not loop.last }}
    {%- endfor %}
),

pairs as (
    select
        candidates.run_key,
        baseline.duration_seconds as baseline_duration_seconds
    from candidates
    cross join offsets
    inner join candidates as baseline
        on baseline.job_key = candidates.job_key
        and baseline.success_number = candidates.success_number - offsets.k
),

medians as (
    select
        run_key,
        count(*) as baseline_runs,
        percentile_cont(0.5) within group (order by baseline_duration_seconds)
            as baseline_median_seconds
    from pairs
    group by run_key
    having count(*) >= 3
),

deviations as (
    select
        pairs.run_key,
        percentile_cont(0.5) within group (
            order by abs(pairs.baseline_duration_seconds - medians.baseline_median_seconds)
        ) as mad_seconds
    from pairs
    inner join medians
        on pairs.run_key = medians.run_key
    group by pairs.run_key
),

scored as (
    select
        candidates.run_key,
        candidates.job_key,
        candidates.started_at,
        candidates.duration_seconds,
        medians.baseline_runs,
        medians.baseline_median_seconds,
        deviations.mad_seconds,
        candidates.duration_seconds / nullif(medians.baseline_median_seconds, 0)
            as ratio_to_median,
        case
            when deviations.mad_seconds > 0
                then (candidates.duration_seconds - medians.baseline_median_seconds)
                    / (1.4826 * deviations.mad_seconds)
        end as robust_z
    from candidates
    inner join medians
        on candidates.run_key = medians.run_key
    inner join deviations
        on candidates.run_key = deviations.run_key
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
