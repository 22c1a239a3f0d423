-- grain: one row per mParticle pipeline run (run_key): the records it moved
with runs as (
    select * from {{ ref('stg_mparticle__pipeline_runs') }}
),

facts as (
    select run_key, job_name, status from {{ ref('fct_job_runs') }}
),

final as (
    select
        runs.run_key,
        runs.job_key,
        runs.pipeline_id,
        facts.job_name as pipeline_name,
        facts.status,
        runs.logical_date,
        runs.started_at,
        runs.ended_at,
        runs.trigger_type,
        runs.is_externally_triggered,
        runs.records_extracted,
        runs.records_mapped,
        runs.event_batches_generated,
        runs.records_extracted - runs.records_mapped as records_not_mapped
    from runs
    inner join facts
        on runs.run_key = facts.run_key
)

select * from final
