-- grain: one row per step of a job run (step_key); today Snowplow BDP is the vendor with steps
with steps as (
    select * from {{ ref('stg_snowplow__job_steps') }}
),

runs as (
    select run_id, run_key, job_key, source_system from {{ ref('stg_snowplow__job_runs') }}
),

final as (
    select
        runs.run_key || ':' || steps.step_name as step_key,
        runs.run_key,
        runs.job_key,
        runs.source_system,
        steps.step_name,
        steps.status,
        steps.status_raw,
        {{ jobpulse_is_terminal('steps.status') }} as is_terminal,
        steps.started_at,
        steps.ended_at,
        steps.duration_seconds
    from steps
    inner join runs
        on steps.run_id = runs.run_id
)

select * from final
