-- grain: one row per job and step name, over the steps of runs started at or before as_of
with steps as (
    select * from {{ ref('fct_job_steps') }}
),

runs as (
    select run_key from {{ ref('int_runs_as_of') }}
),

scoped as (
    select steps.*
    from steps
    inner join runs
        on steps.run_key = runs.run_key
),

run_totals as (
    select run_key, sum(duration_seconds) as run_step_seconds
    from scoped
    group by run_key
),

shares as (
    select
        scoped.*,
        scoped.duration_seconds / nullif(run_totals.run_step_seconds, 0) as share_of_run_time
    from scoped
    inner join run_totals
        on scoped.run_key = run_totals.run_key
),

per_step as (
    select
        job_key,
        step_name,
        count(*) as runs,
        count(*) filter (where status = 'failed') as failures,
        percentile_cont(0.5) within group (order by duration_seconds)
            filter (where status = 'success') as p50_duration_seconds,
        percentile_cont(0.95) within group (order by duration_seconds)
            filter (where status = 'success') as p95_duration_seconds,
        sum(duration_seconds) as total_duration_seconds,
        avg(share_of_run_time) as avg_share_of_run_time
    from shares
    group by job_key, step_name
),

job_failures as (
    select job_key, sum(failures) as job_step_failures
    from per_step
    group by job_key
),

final as (
    select
        per_step.job_key || ':' || per_step.step_name as step_bottleneck_key,
        per_step.job_key,
        per_step.step_name,
        per_step.runs,
        per_step.failures,
        cast(per_step.failures as double precision) / nullif(per_step.runs, 0) as failure_rate,
        cast(per_step.failures as double precision)
            / nullif(job_failures.job_step_failures, 0) as failure_share,
        per_step.p50_duration_seconds,
        per_step.p95_duration_seconds,
        per_step.total_duration_seconds,
        per_step.avg_share_of_run_time
    from per_step
    inner join job_failures
        on per_step.job_key = job_failures.job_key
)

select * from final
