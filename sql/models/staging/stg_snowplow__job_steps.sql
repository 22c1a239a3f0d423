-- grain: one row per step of a Snowplow BDP job run (run_id, step_name)
with source as (
    {{ jobpulse_raw_relation('snowplow_job_steps', [
        ['run_id', 'text'],
        ['step_name', 'text'],
        ['state', 'text'],
        ['started_at', 'timestamp'],
        ['ended_at', 'timestamp'],
        ['duration_seconds', 'double'],
        ['organization_id', 'text'],
    ]) }}
),

final as (
    select
        run_id,
        step_name,
        {{ jobpulse_snowplow_status('state') }} as status,
        state as status_raw,
        started_at,
        ended_at,
        duration_seconds,
        organization_id
    from source
)

select * from final
