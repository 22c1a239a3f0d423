-- grain: one row per entry of an Alation job's error_objects (job_ref, position)
with source as (
    {{ jobpulse_raw_relation('alation_job_errors', [
        ['job_ref', 'text'],
        ['position', 'bigint'],
        ['error', 'text'],
    ]) }}
),

final as (
    select
        job_ref,
        position as error_position,
        error as error_text
    from source
)

select * from final
