-- grain: one row per Snowplow event specification (id)
with source as (
    {{ jobpulse_raw_relation('snowplow_event_specs', [
        ['id', 'text'],
        ['name', 'text'],
        ['status', 'text'],
        ['version', 'bigint'],
        ['is_deleted', 'boolean'],
        ['deleted_seen_at', 'timestamp'],
        ['compatibility_checked_at', 'timestamp'],
    ]) }}
),

final as (
    select
        id as event_spec_id,
        name as event_spec_name,
        lower(status) as status,
        version,
        coalesce(is_deleted, false) as is_deleted,
        deleted_seen_at,
        compatibility_checked_at
    from source
)

select * from final
