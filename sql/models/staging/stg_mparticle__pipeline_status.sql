-- grain: one health snapshot of an mParticle pipeline per load (pipeline_id, observed_at)
with source as (
    {{ jobpulse_raw_relation('mparticle_pipeline_status', [
        ['pipeline_id', 'text'],
        ['observed_at', 'timestamp'],
        ['is_active', 'boolean'],
        ['is_faulted', 'boolean'],
        ['faulted_reason', 'text'],
        ['is_connection_active', 'boolean'],
        ['is_connection_faulted', 'boolean'],
        ['latest_pipeline_run_id', 'text'],
        ['latest_pipeline_run_state', 'text'],
    ]) }}
),

final as (
    select
        pipeline_id,
        observed_at,
        is_active,
        is_faulted,
        faulted_reason,
        is_connection_active,
        is_connection_faulted,
        'mparticle:' || pipeline_id || ':' || latest_pipeline_run_id as latest_run_key,
        latest_pipeline_run_id as latest_run_id,
        case
            when latest_pipeline_run_id is not null
                then {{ jobpulse_mparticle_status('latest_pipeline_run_state') }}
        end as latest_run_status,
        latest_pipeline_run_state as latest_run_status_raw
    from source
)

select * from final
