-- grain: one row per job with at least one run started at or before as_of: how it is doing now
with runs as (
    select * from {{ ref('int_runs_as_of') }}
),

outcomes as (
    select * from {{ ref('int_job_outcomes') }}
),

regressions as (
    -- reuse the mart rather than compute every baseline again
    select run_key from {{ ref('job_duration_regressions') }}
),

last_run as (
    select job_key, source_system, job_name, status, started_at
    from (
        select
            *,
            row_number() over (partition by job_key order by run_number desc) as recency
        from runs
    ) as ranked
    where recency = 1
),

last_success as (
    select job_key, run_key, ended_at
    from (
        select
            *,
            row_number() over (partition by job_key order by run_number desc) as recency
        from runs
        where status = 'success'
    ) as ranked
    where recency = 1
),

outcome_totals as (
    select
        *,
        sum(case when status = 'success' then 1 else 0 end) over (partition by job_key)
            as job_successes
    from outcomes
),

current_streaks as (
    -- failed runs after the job's last success
    select
        job_key,
        count(*) filter (where status = 'failed' and successes_before = job_successes)
            as consecutive_failures
    from outcome_totals
    group by job_key
),

streak_starts as (
    select job_key, successes_before, min(started_at) as streak_started_at
    from outcomes
    where status = 'failed'
    group by job_key, successes_before
),

recoveries as (
    select
        outcomes.job_key,
        {{ jobpulse_epoch('outcomes.ended_at') }}
            - {{ jobpulse_epoch('streak_starts.streak_started_at') }} as recovery_seconds
    from outcomes
    inner join streak_starts
        on outcomes.job_key = streak_starts.job_key
        and outcomes.successes_before = streak_starts.successes_before
    where outcomes.status = 'success'
        and outcomes.is_in_30d
        and outcomes.ended_at is not null
),

mttr as (
    select job_key, avg(recovery_seconds) as mttr_seconds_30d
    from recoveries
    group by job_key
),

window_outcomes as (
    select
        job_key,
        status,
        lag(status) over (partition by job_key order by started_at, run_key) as previous_status
    from outcomes
    where is_in_30d
),

flips as (
    select
        job_key,
        count(*) filter (where previous_status = 'failed' and status = 'success')
            as flaky_flips_30d
    from window_outcomes
    group by job_key
),

window_gaps as (
    select
        job_key,
        {{ jobpulse_epoch('started_at') }} - lag({{ jobpulse_epoch('started_at') }}) over (
            partition by job_key order by started_at, run_key
        ) as gap_seconds
    from runs
    where is_in_30d
),

intervals as (
    select
        job_key,
        percentile_cont(0.5) within group (order by gap_seconds) as expected_interval_seconds
    from window_gaps
    group by job_key
    having count(*) >= 5
),

window_stats as (
    select
        job_key,
        count(*) filter (where is_in_30d) as runs_30d,
        count(*) filter (where is_in_7d and status = 'success') as successes_7d,
        count(*) filter (where is_in_7d and status = 'failed') as failures_7d,
        count(*) filter (where is_in_30d and status = 'success') as successes_30d,
        count(*) filter (where is_in_30d and status = 'failed') as failures_30d,
        percentile_cont(0.5) within group (order by duration_seconds)
            filter (where is_in_30d and status = 'success') as p50_duration_seconds_30d,
        percentile_cont(0.95) within group (order by duration_seconds)
            filter (where is_in_30d and status = 'success') as p95_duration_seconds_30d
    from runs
    group by job_key
),

measured as (
    select
        last_run.job_key,
        last_run.source_system,
        last_run.job_name,
        last_run.status as last_status,
        last_run.started_at as last_run_started_at,
        last_success.ended_at as last_success_at,
        coalesce(current_streaks.consecutive_failures, 0) as consecutive_failures,
        window_stats.runs_30d,
        cast(window_stats.successes_7d as double precision)
            / nullif(window_stats.successes_7d + window_stats.failures_7d, 0) as success_rate_7d,
        cast(window_stats.successes_30d as double precision)
            / nullif(window_stats.successes_30d + window_stats.failures_30d, 0)
            as success_rate_30d,
        window_stats.p50_duration_seconds_30d,
        window_stats.p95_duration_seconds_30d,
        mttr.mttr_seconds_30d,
        coalesce(flips.flaky_flips_30d, 0) as flaky_flips_30d,
        intervals.expected_interval_seconds,
        coalesce(
            {{ jobpulse_epoch(jobpulse_as_of()) }} - {{ jobpulse_epoch('last_run.started_at') }}
                > 2 * intervals.expected_interval_seconds,
            false
        ) as is_overdue,
        regressions.run_key is not null as is_last_success_regression,
        window_stats.successes_30d,
        window_stats.failures_30d
    from last_run
    inner join window_stats
        on last_run.job_key = window_stats.job_key
    left join last_success
        on last_run.job_key = last_success.job_key
    left join current_streaks
        on last_run.job_key = current_streaks.job_key
    left join mttr
        on last_run.job_key = mttr.job_key
    left join flips
        on last_run.job_key = flips.job_key
    left join intervals
        on last_run.job_key = intervals.job_key
    left join regressions
        on last_success.run_key = regressions.run_key
),

final as (
    select
        job_key,
        source_system,
        job_name,
        last_status,
        last_run_started_at,
        last_success_at,
        consecutive_failures,
        runs_30d,
        success_rate_7d,
        success_rate_30d,
        p50_duration_seconds_30d,
        p95_duration_seconds_30d,
        mttr_seconds_30d,
        flaky_flips_30d,
        expected_interval_seconds,
        is_overdue,
        case
            when consecutive_failures > 0 then 'failing'
            when is_overdue then 'overdue'
            when flaky_flips_30d >= 2 then 'flaky'
            when is_last_success_regression then 'slow'
            else 'healthy'
        end as health_verdict,
        is_last_success_regression,
        successes_30d,
        failures_30d
    from measured
)

select * from final
