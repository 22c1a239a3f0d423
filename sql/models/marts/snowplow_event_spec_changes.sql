-- grain: one row per history entry of a Snowplow event specification (event_spec_id, version,
-- changed_at), with what it changed from
with history as (
    select * from {{ ref('stg_snowplow__event_spec_history') }}
),

specs as (
    select * from {{ ref('stg_snowplow__event_specs') }}
),

ordered as (
    select
        *,
        lag(status) over (
            partition by event_spec_id order by changed_at, version
        ) as previous_status,
        lag(version) over (
            partition by event_spec_id order by changed_at, version
        ) as previous_version
    from history
),

final as (
    select
        ordered.event_spec_id,
        specs.event_spec_name,
        ordered.version,
        ordered.changed_at,
        ordered.status,
        ordered.previous_version,
        ordered.previous_status,
        ordered.author,
        ordered.message,
        coalesce(specs.is_deleted, false) as is_spec_deleted
    from ordered
    left join specs
        on ordered.event_spec_id = specs.event_spec_id
)

select * from final
