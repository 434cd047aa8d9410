{#- Incremental builds: raw records landed at or after this time are (re)processed,
    the latest `loaded_at` already in `relation` minus the lookback window
    (var outbound_events__incremental_lookback_hours). -#}
{% macro incremental_window_start(relation) -%}
    {{ dbt.dateadd(
        'hour',
        -1 * (var('outbound_events__incremental_lookback_hours') | int),
        "(select coalesce(max(loaded_at), cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")) from "
            ~ relation ~ ")"
    ) }}
{%- endmacro %}


{#- Stable id of one staged record: provider, load, file and positions. -#}
{% macro record_id() -%}
    {{ dbt.hash(dbt.concat([
        'provider', "'|'", 'load_id', "'|'", 'source_file', "'|'",
        dbt.cast('source_position', dbt.type_string()), "'|'",
        dbt.cast('event_position', dbt.type_string())
    ])) }}
{%- endmacro %}
