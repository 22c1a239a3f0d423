-- grain: one row per run of any vendor's job (run_key), whenever it started
with snowplow as (
    select * from {{ ref('stg_snowplow__job_runs') }}
),

tailer as (
    select * from {{ ref('stg_tailer__runs') }}
),

alation as (
    select * from {{ ref('stg_alation__jobs') }}
),

mparticle_runs as (
    select * from {{ ref('stg_mparticle__pipeline_runs') }}
),

mparticle_pipelines as (
    select * from {{ ref('stg_mparticle__pipelines') }}
),

mparticle as (
    select
        runs.*,
        coalesce(pipelines.pipeline_name, runs.pipeline_id) as job_name,
        pipelines.environment
    from mparticle_runs as runs
    left join mparticle_pipelines as pipelines
        on runs.pipeline_id = pipelines.pipeline_id
),

{%- set columns = [
    'run_key', 'source_system', 'job_key', 'job_name', 'environment', 'run_id', 'status',
    'status_raw', 'started_at', 'ended_at', 'duration_seconds', 'trigger_type',
    'records_processed', 'error_message',
] %}

unioned as (
    {%- for vendor in ['snowplow', 'tailer', 'alation', 'mparticle'] %}
    select {{ columns | join(', ') }} from {{ vendor }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        run_key,
        source_system,
        job_key,
        job_name,
        environment,
        run_id,
        status,
        status_raw,
        {{ jobpulse_is_terminal('status') }} as is_terminal,
        started_at,
        ended_at,
        duration_seconds,
        trigger_type,
        records_processed,
        error_message
    from unioned
)

select * from final
