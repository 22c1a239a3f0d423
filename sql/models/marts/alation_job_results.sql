-- grain: one row per Alation job execution (run_key): objects updated and errors reported
with jobs as (
    select * from {{ ref('stg_alation__jobs') }}
),

errors as (
    select * from {{ ref('stg_alation__job_errors') }}
),

error_summary as (
    select
        job_ref,
        count(*) as errors_loaded,
        min(case when error_position = 0 then error_text end) as first_error
    from errors
    group by job_ref
),

final as (
    select
        jobs.run_key,
        jobs.job_key,
        jobs.job_name,
        jobs.job_type,
        jobs.status,
        jobs.started_at,
        jobs.ended_at,
        jobs.duration_seconds,
        jobs.updated_objects,
        jobs.number_received,
        jobs.error_count,
        coalesce(error_summary.errors_loaded, 0) as errors_loaded,
        error_summary.first_error,
        jobs.new_events_ingested,
        jobs.events_skipped
    from jobs
    left join error_summary
        on jobs.job_ref = error_summary.job_ref
)

select * from final
