{#- Fails on every value of a text column of the model (every text column the
    warehouse reports, or just `column_name`) that holds an e-mail address or a phone
    number in clear text. With recent_rows_only, only the rows the last run rebuilt are
    scanned (macros/test_window.sql: after an incremental run, the new
    ones; older rows were scanned when they were new), unless var
    outbound_events__test_all_rows is true (`make test`, CI). Skipped when var
    outbound_events__keep_pii is true. -#}
{% test has_no_personal_data(model, column_name=none, recent_rows_only=false) %}
    {{ outbound_events.personal_data_hits(model, [column_name] if column_name else none, recent_rows_only) }}
{% endtest %}
