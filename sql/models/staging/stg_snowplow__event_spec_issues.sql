-- grain: one compatibility finding on a Snowplow event specification, as seen by one load
with source as (
    {{ jobpulse_raw_relation('snowplow_event_spec_issues', [
        ['event_spec_id', 'text'],
        ['type', 'text'],
        ['code', 'text'],
        ['title', 'text'],
        ['source', 'text'],
        ['observed_at', 'timestamp'],
    ]) }}
),

final as (
    select
        event_spec_id,
        type as issue_type,
        code as issue_code,
        title as issue_title,
        source as issue_source,
        observed_at
    from source
)

select * from final
