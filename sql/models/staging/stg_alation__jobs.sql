-- grain: one row per Alation bulk-metadata job execution (job_ref); each is one run
with source as (
    {{ jobpulse_raw_relation('alation_jobs', [
        ['job_ref', 'text'],
        ['job_id', 'bigint'],
        ['job_name', 'text'],
        ['job_type', 'text'],
        ['job_key', 'text'],
        ['status', 'text'],
        ['msg', 'text'],
        ['result', 'text'],
        ['started_at', 'timestamp'],
        ['finished_at', 'timestamp'],
        ['duration_seconds', 'double'],
        ['updated_objects', 'bigint'],
        ['number_received', 'bigint'],
        ['error_count', 'bigint'],
        ['new_events_ingested', 'bigint'],
        ['events_skipped', 'bigint'],
    ]) }}
),

keyed as (
    select
        *,
        coalesce(
            -- the job a run belongs to, from its name: MetadataExtraction#1_2017-10-05-... ->
            -- MetadataExtraction#1 (the source derives it; derived here again when it did not)
            job_key,
            regexp_replace(job_name, '_[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}.*$', ''),
            -- a job known only by id: the kind its msg or result shows
            case
                when lower(coalesce(msg, '') || ' ' || coalesce(result, '')) like '%query ingestion%'
                    then 'QueryLogIngestion'
                else 'unknown'
            end
        ) as alation_job_key
    from source
),

final as (
    select
        'alation:' || alation_job_key || ':' || job_ref as run_key,
        'alation' as source_system,
        'alation:' || alation_job_key as job_key,
        job_name,
        cast(null as text) as environment,
        job_ref as run_id,
        {{ jobpulse_status('status', {
            'successful': 'success',
            'failed': 'failed',
            'running': 'running',
        }) }} as status,
        status as status_raw,
        -- Alation sends only when a job finished; its start is known from the name, if at all.
        coalesce(started_at, finished_at) as started_at,
        finished_at as ended_at,
        duration_seconds,
        cast(null as text) as trigger_type,
        coalesce(updated_objects, new_events_ingested) as records_processed,
        case when lower(trim(status)) = 'failed' then msg end as error_message,
        job_ref,
        job_id as alation_job_id,
        job_type,
        alation_job_key,
        msg,
        updated_objects,
        number_received,
        error_count,
        new_events_ingested,
        events_skipped
    from keyed
)

select * from final
