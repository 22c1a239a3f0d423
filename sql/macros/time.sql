{#- `as_of`, the "now" of every mart: the var (ISO 8601, UTC) or, when empty, the build time. -#}
{% macro jobpulse_as_of() -%}
    {%- set as_of = var('as_of', '') -%}
    {%- if as_of is none or (as_of | string | trim) == '' -%}
        {%- set as_of = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f+00:00') -%}
    {%- endif -%}
    cast('{{ as_of | string | trim | replace("'", "") }}' as timestamp with time zone)
{%- endmacro %}


{#- Seconds since the epoch of a timestamp with time zone, as double precision. -#}
{% macro jobpulse_epoch(timestamp_expression) -%}
    cast(extract(epoch from {{ timestamp_expression }}) as double precision)
{%- endmacro %}


{#- The start of the N-day window ending at as_of: N x 24 hours, whatever the session time zone
    (an interval in days would follow daylight-saving changes of the session's zone). -#}
{% macro jobpulse_window_start(days) -%}
    ({{ jobpulse_as_of() }} - interval '{{ days * 24 }} hours')
{%- endmacro %}


{#- The UTC calendar day of a timestamp with time zone, whatever the session time zone. -#}
{% macro jobpulse_utc_day(timestamp_expression) -%}
    cast(({{ timestamp_expression }} at time zone 'UTC') as date)
{%- endmacro %}
