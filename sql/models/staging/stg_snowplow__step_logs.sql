-- grain: one row per logged step of a Snowplow BDP job run (run_id, step_name)
with source as (
    {{ jobpulse_raw_relation('snowplow_step_logs', [
        ['run_id', 'text'],
        ['step_name', 'text'],
        ['state', 'text'],
        ['stdout', 'text'],
        ['stdout_truncated', 'boolean'],
        ['stdout_bytes', 'bigint'],
        ['stderr', 'text'],
        ['stderr_truncated', 'boolean'],
        ['stderr_bytes', 'bigint'],
        ['organization_id', 'text'],
    ]) }}
),

runs as (
    -- the run's key, built like every run's (job and environment come from the run)
    select run_id, run_key from {{ ref('stg_snowplow__job_runs') }}
),

final as (
    select
        runs.run_key,
        runs.run_key || ':' || source.step_name as step_key,
        source.run_id,
        source.step_name,
        {{ jobpulse_snowplow_status('source.state') }} as status,
        source.state as status_raw,
        source.stdout,
        coalesce(source.stdout_truncated, false) as is_stdout_truncated,
        source.stdout_bytes,
        source.stderr,
        coalesce(source.stderr_truncated, false) as is_stderr_truncated,
        source.stderr_bytes,
        source.organization_id
    from source
    left join runs
        on source.run_id = runs.run_id
)

select * from final
