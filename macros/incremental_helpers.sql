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


{#- The same window start, computed before the model's query runs and inlined as a
    timestamp literal: a constant filter lets the engine push it down to the raw
    tables through the staging views, so only the window's records are parsed. -#}
{% macro incremental_window_start_literal(relation) -%}
    {%- if execute -%}
        {%- set result = run_query("select cast(" ~ outbound_events.incremental_window_start(relation) ~ " as "
            ~ dbt.type_string() ~ ")") -%}
        {%- set value = result.columns[0].values()[0] -%}
        cast({{ outbound_events.sql_string(value) }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
