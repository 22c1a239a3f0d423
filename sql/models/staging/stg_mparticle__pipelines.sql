-- grain: one row per mParticle Warehouse Sync pipeline (id)
with source as (
    {{ jobpulse_raw_relation('mparticle_pipelines', [
        ['id', 'text'],
        ['name', 'text'],
        ['environment', 'text'],
        ['schedule_interval', 'text'],
        ['is_active', 'boolean'],
        ['is_faulted', 'boolean'],
        ['is_deleted', 'boolean'],
    ]) }}
),

final as (
    select
        id as pipeline_id,
        name as pipeline_name,
        environment,
        schedule_interval,
        is_active,
        is_faulted,
        coalesce(is_deleted, false) as is_deleted
    from source
)

select * from final
