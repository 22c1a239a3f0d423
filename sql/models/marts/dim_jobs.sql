-- grain: one row per job across vendors (job_key), from every run in fct_job_runs
with runs as (
    select * from {{ ref('fct_job_runs') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by job_key
            order by started_at desc nulls last, run_key desc
        ) as recency
    from runs
),

latest as (
    select job_key, job_name, environment
    from ranked
    where recency = 1
),

totals as (
    select
        job_key,
        min(source_system) as source_system,
        count(*) as runs,
        min(started_at) as first_run_started_at,
        max(started_at) as last_run_started_at
    from runs
    group by job_key
),

final as (
    select
        totals.job_key,
        totals.source_system,
        latest.job_name,
        latest.environment,
        totals.runs,
        totals.first_run_started_at,
        totals.last_run_started_at
    from totals
    inner join latest
        on totals.job_key = latest.job_key
)

select * from final
