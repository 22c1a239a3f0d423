-- grain: one row per success or failed run started at or before as_of; other statuses neither
-- count as failures, break a failure streak, nor end one
with runs as (
    select * from {{ ref('int_runs_as_of') }}
    where status in ('success', 'failed')
),

final as (
    select
        *,
        -- failed runs sharing this number form one streak; the success with the same number
        -- is the streak's recovery
        coalesce(sum(case when status = 'success' then 1 else 0 end) over (
            partition by job_key
            order by started_at, run_key
            rows between unbounded preceding and 1 preceding
        ), 0) as successes_before
    from runs
)

select * from final
