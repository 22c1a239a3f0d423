{#- A select of `columns` from a raw table, each cast to its type, usable as a staging model's
    import CTE. A vendor that is not configured has no raw table, and dlt creates a column only
    once it has seen a value: a missing table yields an empty relation with the same typed
    columns, a missing column yields typed nulls. Never an error.

    columns: list of [name, kind], kind one of text, timestamp, double, bigint, boolean. -#}
{% macro jobpulse_raw_relation(table_name, columns) -%}
    {%- set declared = source('jobpulse_raw', table_name) -%}
    {%- set existing = none -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=declared.database, schema=declared.schema, identifier=declared.identifier
        ) -%}
        {%- if existing is not none -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do present.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif %}
    select
    {%- for name, kind in columns %}
        {% if name in present -%}
            cast({{ adapter.quote(name) }} as {{ jobpulse_type(kind) }})
        {%- else -%}
            cast(null as {{ jobpulse_type(kind) }})
        {%- endif %} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    {% if existing is not none -%}
    from {{ existing }}
    {%- else -%}
    where 1 = 0
    {%- endif %}
{%- endmacro %}


{#- The SQL type of a column kind: the same spelling works on DuckDB and PostgreSQL. -#}
{% macro jobpulse_type(kind) -%}
    {%- set types = {
        'text': 'text',
        'timestamp': 'timestamp with time zone',
        'double': 'double precision',
        'bigint': 'bigint',
        'boolean': 'boolean',
    } -%}
    {%- if kind not in types -%}
        {{ exceptions.raise_compiler_error("jobpulse_type: unknown column kind " ~ kind) }}
    {%- endif -%}
    {{ types[kind] }}
{%- endmacro %}
