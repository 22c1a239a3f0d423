{#- Staging views go to <prefix>_staging and marts to <prefix>_marts (default jobpulse_staging,
    jobpulse_marts), next to the raw dataset. dbt's default would join the target schema (the raw
    dataset) and the custom one: `jobpulse_raw_staging` is dlt's own merge-staging dataset. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ var('jobpulse_schema_prefix', 'jobpulse') }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
