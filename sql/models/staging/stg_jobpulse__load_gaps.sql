-- grain: one span of a vendor's history that jobpulse could not fetch (source_system, gap_from);
-- written by every source that can detect one, only when a gap exists
with source as (
    {{ jobpulse_raw_relation('load_gaps', [
        ['source', 'text'],
        ['gap_from', 'timestamp'],
        ['gap_to', 'timestamp'],
        ['reason', 'text'],
        ['detected_at', 'timestamp'],
    ]) }}
),

final as (
    select
        lower(source.source) as source_system,
        gap_from,
        gap_to,
        {{ jobpulse_epoch('gap_to') }} - {{ jobpulse_epoch('gap_from') }} as gap_seconds,
        reason as gap_reason,
        detected_at
    from source
)

select * from final
