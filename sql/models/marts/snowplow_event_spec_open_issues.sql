-- grain: one row per compatibility finding seen by the latest load that checked its spec's
-- compatibility, on a live event specification: what is open now
with issues as (
    select * from {{ ref('stg_snowplow__event_spec_issues') }}
),

specs as (
    select * from {{ ref('stg_snowplow__event_specs') }}
),

latest_seen as (
    -- for a spec stored before compatibility_checked_at existed: its latest findings
    select event_spec_id, max(observed_at) as observed_at
    from issues
    group by event_spec_id
),

first_seen as (
    select
        event_spec_id,
        issue_code,
        issue_source,
        issue_title,
        min(observed_at) as first_observed_at
    from issues
    group by event_spec_id, issue_code, issue_source, issue_title
),

final as (
    select
        issues.event_spec_id,
        specs.event_spec_name,
        specs.status as event_spec_status,
        issues.issue_type,
        issues.issue_code,
        issues.issue_title,
        issues.issue_source,
        issues.observed_at,
        first_seen.first_observed_at
    from issues
    inner join latest_seen
        on issues.event_spec_id = latest_seen.event_spec_id
    inner join first_seen
        on issues.event_spec_id = first_seen.event_spec_id
        and issues.issue_code = first_seen.issue_code
        and issues.issue_source = first_seen.issue_source
        and issues.issue_title = first_seen.issue_title
    left join specs
        on issues.event_spec_id = specs.event_spec_id
    where
        not coalesce(specs.is_deleted, false)
        and issues.observed_at = coalesce(specs.compatibility_checked_at, latest_seen.observed_at)
)

select * from final
