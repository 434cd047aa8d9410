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


{#- Models after int_events_deduplicated (conversions, funnels, rejects, ledger) keep
    how far they have processed in intermediate.incremental_watermarks (one row per
    model: the latest `loaded_at` of int_events_validated when the model was last
    built), so that their rows hold no build-time column and equal a full refresh's.
    The table is created by the on-run-start hook. -#}
{% macro watermarks_table() -%}
    {{ return('intermediate.incremental_watermarks') }}
{%- endmacro %}

{#- Start of this model's window, a timestamp literal: its watermark minus the
    lookback. -#}
{% macro watermark_window_start() -%}
    {%- if execute -%}
        {%- set query -%}
            select cast({{ dbt.dateadd(
                'hour', -1 * (var('outbound_events__incremental_lookback_hours') | int),
                "coalesce(max(loaded_through), cast('1900-01-01' as " ~ dbt.type_timestamp() ~ "))"
            ) }} as {{ dbt.type_string() }})
            from {{ outbound_events.watermarks_table() }}
            where model_name = '{{ this.identifier }}'
        {%- endset -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        cast({{ outbound_events.sql_string(value) }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- post_hook of those models: record how far this build has processed. -#}
{% macro record_watermark() -%}
    delete from {{ outbound_events.watermarks_table() }} where model_name = '{{ this.identifier }}';
    insert into {{ outbound_events.watermarks_table() }} (model_name, loaded_through)
    select '{{ this.identifier }}', max(loaded_at) from {{ ref('int_events_validated') }}
{%- endmacro %}

{#- pre_hook of models whose rows can vanish or move (rejects, ledger, daily funnel):
    on an incremental run, delete the rows the run recomputes. -#}
{% macro delete_recomputed_rows(condition) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ condition }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- A select of the ids int_users_touched holds for this run. -#}
{% macro touched_ids() -%}
    select match_id from {{ ref('int_users_touched') }}
{%- endmacro %}

{#- The message keys of every message of those ids. -#}
{% macro affected_message_keys() -%}
    select distinct message_key from {{ ref('int_events_deduplicated') }}
    where
        message_key is not null
        and (
            user_id in ({{ outbound_events.touched_ids() }})
            or external_user_id in ({{ outbound_events.touched_ids() }})
        )
{%- endmacro %}
