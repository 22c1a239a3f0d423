-- grain: one row per Snowplow BDP job run (run_id)
with source as (
    {{ jobpulse_raw_relation('snowplow_job_runs', [
        ['run_id', 'text'],
        ['job_id', 'text'],
        ['job_name', 'text'],
        ['environment', 'text'],
        ['state', 'text'],
        ['failure_reason', 'text'],
        ['organization_id', 'text'],
        ['started_at', 'timestamp'],
        ['ended_at', 'timestamp'],
        ['duration_seconds', 'double'],
    ]) }}
),

final as (
    select
        'snowplow:' || job_id || '@' || coalesce(environment, '') || ':' || run_id as run_key,
        'snowplow' as source_system,
        'snowplow:' || job_id || '@' || coalesce(environment, '') as job_key,
        job_name,
        environment,
        run_id,
        {{ jobpulse_snowplow_status('state') }} as status,
        state as status_raw,
        started_at,
        ended_at,
        duration_seconds,
        cast(null as text) as trigger_type,
        cast(null as bigint) as records_processed,
        failure_reason as error_message,
        job_id,
        organization_id
    from source
)

select * from final
