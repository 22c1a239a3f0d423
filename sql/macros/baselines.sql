{#- Per successful run of `candidates` (run_key, job_key, success_number, duration_seconds): the
    count, median and median absolute deviation (MAD) of the durations of the job's previous
    `size` candidates. Medians are percentile_cont(0.5) (interpolated).

    Dispatched because the dialects differ: PostgreSQL has no ordered-set aggregate as a window
    function, so the portable version joins each run to its previous runs and aggregates; DuckDB
    computes median and MAD over a sliding window frame directly (`median`, `mad`), which on a
    million runs is far faster and lighter than the join. Both give the same figures (tested). -#}
{% macro jobpulse_baseline_stats(candidates, size=20) -%}
    {{ return(adapter.dispatch('jobpulse_baseline_stats', 'jobpulse')(candidates, size)) }}
{%- endmacro %}


{% macro default__jobpulse_baseline_stats(candidates, size) -%}
    with offsets as (
        -- an equi-join on (job, number - k) stays linear in runs
        {%- for k in range(1, size + 1) %}
        select {{ k }} as k{{ " union all" if not loop.last }}
        {%- endfor %}
    ),

    pairs as (
        select
            current_run.run_key,
            previous_run.duration_seconds as baseline_duration_seconds
        from {{ candidates }} as current_run
        cross join offsets
        inner join {{ candidates }} as previous_run
            on previous_run.job_key = current_run.job_key
            and previous_run.success_number = current_run.success_number - offsets.k
    ),

    medians as (
        select
            run_key,
            count(*) as baseline_runs,
            percentile_cont(0.5) within group (order by baseline_duration_seconds)
                as baseline_median_seconds
        from pairs
        group by run_key
    ),

    deviations as (
        select
            pairs.run_key,
            percentile_cont(0.5) within group (
                order by abs(pairs.baseline_duration_seconds - medians.baseline_median_seconds)
            ) as mad_seconds
        from pairs
        inner join medians
            on pairs.run_key = medians.run_key
        group by pairs.run_key
    )

    select
        medians.run_key,
        medians.baseline_runs,
        medians.baseline_median_seconds,
        deviations.mad_seconds
    from medians
    inner join deviations
        on medians.run_key = deviations.run_key
{%- endmacro %}


{% macro duckdb__jobpulse_baseline_stats(candidates, size) -%}
    select
        run_key,
        count(duration_seconds) over previous_runs as baseline_runs,
        median(duration_seconds) over previous_runs as baseline_median_seconds,
        mad(duration_seconds) over previous_runs as mad_seconds
    from {{ candidates }}
    window previous_runs as (
        partition by job_key
        order by success_number
        rows between {{ size }} preceding and 1 preceding
    )
{%- endmacro %}
