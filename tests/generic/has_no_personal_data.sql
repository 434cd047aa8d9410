{#- Fails on every value of a text column that holds an email address or a phone
    number in clear text (skipped when var outbound_events__keep_pii is true). -#}
{% test has_no_personal_data(model, column_name) %}
    {%- set keep_pii = var('outbound_events__keep_pii') | string | lower in ['true', '1', 'yes'] %}
    select {{ column_name }}
    from {{ model }}
    where
        {{ 'false and' if keep_pii }}
        (
            {{ outbound_events.regexp_contains(column_name, outbound_events.email_pattern()) }}
            or {{ outbound_events.regexp_contains(column_name, outbound_events.phone_pattern()) }}
        )
{% endtest %}
