{#- Generic test: no two rows share the same values of `columns` (a composite key). -#}
{% test jobpulse_unique_combination(model, columns) %}
    select {{ columns | join(', ') }}
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
