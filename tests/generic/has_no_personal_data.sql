{#- Fails on every value of a text column of the model (every text column the
    warehouse reports, or just `column_name`) that holds an e-mail address or a phone
    number in clear text. Skipped when var outbound_events__keep_pii is true. -#}
{% test has_no_personal_data(model, column_name=none) %}
    {{ outbound_events.personal_data_hits(model, [column_name] if column_name else none) }}
{% endtest %}
