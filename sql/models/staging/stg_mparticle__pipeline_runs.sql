-- grain: one row per mParticle pipeline run (pipeline_run_id)
with source as (
    {{ jobpulse_raw_relation('mparticle_pipeline_runs', [
        ['pipeline_run_id', 'text'],
        ['pipeline_id', 'text'],
        ['pipeline_run_state', 'text'],
        ['state', 'text'],
        ['pipeline_run_type', 'text'],
        ['is_externally_triggered', 'boolean'],
        ['logical_date', 'timestamp'],
        ['started_at', 'timestamp'],
        ['ended_at', 'timestamp'],
        ['duration_seconds', 'double'],
        ['records_extracted', 'bigint'],
        ['records_mapped', 'bigint'],
        ['event_batches_generated', 'bigint'],
    ]) }}
),

stated as (
    -- v2 of the API may spell the run's state `state`
    select *, coalesce(pipeline_run_state, state) as run_state
    from source
),

final as (
    select
        'mparticle:' || pipeline_id || ':' || pipeline_run_id as run_key,
        'mparticle' as source_system,
        'mparticle:' || pipeline_id as job_key,
        pipeline_run_id as run_id,
        {{ jobpulse_mparticle_status('run_state') }} as status,
        run_state as status_raw,
        started_at,
        ended_at,
        duration_seconds,
        pipeline_run_type as trigger_type,
        records_extracted as records_processed,
        cast(null as text) as error_message,
        pipeline_id,
        logical_date,
        is_externally_triggered,
        records_extracted,
        records_mapped,
        event_batches_generated
    from stated
)

select * from final
