-- grain: one row per Tailer run (job_id, run_id)
with source as (
    {{ jobpulse_raw_relation('tailer_runs', [
        ['job_id', 'text'],
        ['run_id', 'text'],
        ['account', 'text'],
        ['environment', 'text'],
        ['configuration_type', 'text'],
        ['configuration_id', 'text'],
        ['status', 'text'],
        ['started_at', 'timestamp'],
        ['ended_at', 'timestamp'],
        ['duration_seconds', 'double'],
    ]) }}
),

final as (
    select
        'tailer:' || job_id || ':' || run_id as run_key,
        'tailer' as source_system,
        'tailer:' || job_id as job_key,
        configuration_id as job_name,
        environment,
        run_id,
        -- "Checked" is a failure someone marked fixed by hand: still a failure.
        {{ jobpulse_status('status', {
            'success': 'success',
            'failed': 'failed',
            'checked': 'failed',
            'running': 'running',
            'no match': 'skipped',
        }) }} as status,
        status as status_raw,
        started_at,
        ended_at,
        duration_seconds,
        cast(null as text) as trigger_type,
        cast(null as bigint) as records_processed,
        cast(null as text) as error_message,
        job_id,
        account,
        configuration_type,
        configuration_id
    from source
)

select * from final
