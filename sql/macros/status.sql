{#- A vendor's raw status normalised to success | failed | running | queued | cancelled |
    skipped | unknown; matching ignores case and surrounding spaces. mapping: raw (lower case) ->
    normalised; anything else (null included) is `unknown`. -#}
{% macro jobpulse_status(column, mapping) -%}
    case lower(trim({{ column }}))
    {%- for raw, status in mapping.items() %}
        when '{{ raw }}' then '{{ status }}'
    {%- endfor %}
        else 'unknown'
    end
{%- endmacro %}


{#- Terminal statuses: the run has ended and will not change. -#}
{% macro jobpulse_is_terminal(status_column) -%}
    ({{ status_column }} in ('success', 'failed', 'skipped', 'cancelled'))
{%- endmacro %}

{# Snowplow's run and step states share one vocabulary: runs and steps map them alike. #}
{% macro jobpulse_snowplow_status(column) -%}
    {{ jobpulse_status(column, {
        'succeeded': 'success',
        'succeeded_no_op': 'success',
        'failed': 'failed',
        'running': 'running',
        'waiting': 'queued',
        'skipped': 'skipped',
    }) }}
{%- endmacro %}

{# mParticle's run states, on runs and on the latest run of a pipeline's status snapshot. #}
{% macro jobpulse_mparticle_status(column) -%}
    {{ jobpulse_status(column, {
        'success': 'success',
        'failed': 'failed',
        'running': 'running',
        'queued': 'queued',
        'triggered': 'queued',
        'dataset_triggered': 'queued',
    }) }}
{%- endmacro %}
