{#- Fails on every non-null value of the column that is not a JSON object. -#}
{% test is_json_object(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null and {{ outbound_events.json_kind(column_name) }} != 'object'
{% endtest %}
