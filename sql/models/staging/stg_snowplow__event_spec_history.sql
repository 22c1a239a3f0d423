-- grain: one row per history entry of a Snowplow event specification (event_spec_id, version, date)
with source as (
    {{ jobpulse_raw_relation('snowplow_event_spec_history', [
        ['event_spec_id', 'text'],
        ['version', 'bigint'],
        ['date', 'timestamp'],
        ['status', 'text'],
        ['author', 'text'],
        ['message', 'text'],
    ]) }}
),

final as (
    select
        event_spec_id,
        version,
        date as changed_at,
        lower(status) as status,
        author,
        message
    from source
)

select * from final
