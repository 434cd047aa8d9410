{#- Incremental builds follow the loads. Every `outbound-events load` is one load id,
    landed whole in one transaction while it holds the warehouse (no build can run
    meanwhile), so a load is either entirely in a build or not at all. Each incremental
    model keeps the ids of the loads it has processed in intermediate.incremental_loads
    (model_name, load_id), replaced by a post-hook after every successful build; a run
    processes the loads of the run (model int_loads_in_run) it has not processed yet
    (none: a no-op run touches nothing large). -#}
{% macro processed_loads_table() -%}
    {{ return('intermediate.incremental_loads') }}
{%- endmacro %}

{#- The materialization of the models that follow the loads: incremental; on Spark
    (plain Parquet tables: no delete, no merge) a table rebuilt whole on every run. -#}
{% macro incremental_materialized() -%}
    {{ return(adapter.dispatch('incremental_materialized', 'outbound_events')()) }}
{%- endmacro %}
{% macro default__incremental_materialized() %}{{ return('incremental') }}{% endmacro %}
{% macro spark__incremental_materialized() %}{{ return('table') }}{% endmacro %}

{#- on-run-start: the bookkeeping table, where it does not exist. -#}
{% macro create_processed_loads_table() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists intermediate') -%}
        {%- do run_query('create table if not exists ' ~ outbound_events.processed_loads_table()
            ~ ' ' ~ outbound_events.processed_loads_columns()) -%}
    {%- endif -%}
{%- endmacro %}
{#- Its columns; on Spark partitioned by model, so that a model's ids are replaced by
    overwriting its partition (Parquet tables cannot delete). -#}
{% macro processed_loads_columns() %}{{ return(adapter.dispatch('processed_loads_columns', 'outbound_events')()) }}{% endmacro %}
{% macro default__processed_loads_columns() -%}
    {{ return('(model_name ' ~ dbt.type_string() ~ ', load_id ' ~ dbt.type_string() ~ ')') }}
{%- endmacro %}
{% macro spark__processed_loads_columns() -%}
    {{ return('(load_id string, model_name string) using parquet partitioned by (model_name)') }}
{%- endmacro %}

{#- Whether this run is a step of a backfill (var outbound_events__max_loads_per_run):
    then even a model built from scratch reads only the loads of the run. -#}
{% macro loads_are_limited() -%}
    {{ return(var('outbound_events__max_loads_per_run', none) is not none) }}
{%- endmacro %}

{#- The ids of the loads this model has not processed yet (a list, known before the
    model's query runs). -#}
{% macro new_load_ids() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select load_id from {{ ref('int_loads_in_run') }}
        {%- if is_incremental() %}
        where load_id not in (
            select load_id from {{ outbound_events.processed_loads_table() }}
            where model_name = '{{ this.identifier }}'
        )
        {%- endif %}
        order by load_id
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- SQL: true for a row of a load this model has not processed yet. A constant list,
    so that the engine pushes it down to the raw tables through the staging views
    (only the new loads' records are parsed). -#}
{% macro in_new_loads(column='load_id') -%}
    {{ outbound_events.in_load_list(outbound_events.new_load_ids(), column) }}
{%- endmacro %}

{#- The new loads and every older load holding a copy of an event that has a copy in
    a new one (its duplicates and conflicts are counted anew: when loads land out of
    `loaded_at` order, the copy kept can move to the new load). A list. -#}
{% macro load_ids_to_recompute() -%}
    {%- set new_ids = outbound_events.new_load_ids() -%}
    {%- if not new_ids -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select distinct copies.load_id
        from {{ ref('int_events_validated') }} as copies
        where copies.event_id in (
            select event_id from {{ ref('int_events_validated') }}
            where event_id is not null and {{ outbound_events.in_load_list(new_ids) }}
        )
    {%- endset -%}
    {{ return((new_ids + run_query(query).columns[0].values() | list) | unique | sort) }}
{%- endmacro %}

{#- SQL: true for a row of a load the model recomputes (load_ids_to_recompute). -#}
{% macro in_loads_to_recompute(column='load_id') -%}
    {{ outbound_events.in_load_list(outbound_events.load_ids_to_recompute(), column) }}
{%- endmacro %}

{#- SQL: `column in (<the ids>)`, false for no ids. -#}
{% macro in_load_list(load_ids, column='load_id') -%}
    {%- set ids = [] -%}
    {%- for load_id in load_ids -%}
        {%- do ids.append(outbound_events.sql_string(load_id)) -%}
    {%- endfor -%}
    {%- if ids -%}
        {{ column }} in ({{ ids | join(', ') }})
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}

{#- post_hook of every incremental model that follows the loads: it has now processed
    every landed load. -#}
{% macro record_processed_loads() -%}
    {{ return(adapter.dispatch('record_processed_loads', 'outbound_events')()) }}
{%- endmacro %}
{% macro spark__record_processed_loads() -%}
    insert overwrite table {{ outbound_events.processed_loads_table() }}
    partition (model_name = '{{ this.identifier }}')
    select load_id from {{ ref('int_loads_in_run') }}
{%- endmacro %}
{% macro default__record_processed_loads() -%}
    delete from {{ outbound_events.processed_loads_table() }} where model_name = '{{ this.identifier }}';
    insert into {{ outbound_events.processed_loads_table() }} (model_name, load_id)
    select '{{ this.identifier }}', load_id from {{ ref('int_loads_in_run') }}
{%- endmacro %}


{#- Stable id of one staged record: provider, load, file and positions. -#}
{% macro record_id() -%}
    {{ dbt.hash(dbt.concat([
        'provider', "'|'", 'load_id', "'|'", 'source_file', "'|'",
        dbt.cast('source_position', dbt.type_string()), "'|'",
        dbt.cast('event_position', dbt.type_string())
    ])) }}
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

{#- Whether this run touched any user (false after a run with nothing new): known
    before the model's query runs, so that models skip even finding what to redo. -#}
{% macro users_were_touched() -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set result = run_query('select count(*) from (select match_id from ' ~ ref('int_users_touched') ~ ' limit 1) as touched') -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The message keys of every message of those ids. -#}
{% macro affected_message_keys() -%}
    {%- if not outbound_events.users_were_touched() -%}
    select cast(null as {{ dbt.type_string() }}) as message_key where 1 = 0
    {%- else -%}
    select distinct message_key from {{ ref('int_events_deduplicated') }}
    where
        message_key is not null
        and (
            user_id in ({{ outbound_events.touched_ids() }})
            or external_user_id in ({{ outbound_events.touched_ids() }})
        )
    {%- endif -%}
{%- endmacro %}
