{#- Incremental builds follow the loads. Every `outbound-events load` is one load id,
    landed whole in one transaction while it holds the warehouse (no build can run
    meanwhile), so a load is either entirely in a build or not at all.

    The protocol (docs/incremental.md), all of it models in the lineage:
    - int_loads_processed: which model has processed which load; each incremental
      model adds its row in a post-hook, in the same transaction as its data (DuckDB;
      on Spark, after its data), so a model killed mid-build has not recorded anything;
    - int_loads_in_run: the loads this run may process;
    - the work lists a run recomputes (int_event_ids_with_new_copies,
      int_loads_to_recompute, int_users_to_recompute, int_messages_to_recompute,
      int_funnel_days_to_recompute, int_experiments_to_recompute): each holds what its
      consumers have not all processed yet, so a consumer killed before it recorded its
      loads finds its work again in the next run; recomputing what was already done
      gives the same rows (every consumer deletes and rebuilds what a list names, from all history). -#}

{#- The materialization, strategy and partitions of the models that follow the
    loads: macros/spark_incremental.sql. -#}

{#- Whether this run is a step of a backfill (var outbound_events__max_loads_per_run):
    then even a model built from scratch reads only the loads of the run. -#}
{% macro loads_are_limited() -%}
    {{ return(var('outbound_events__max_loads_per_run', none) is not none) }}
{%- endmacro %}

{#- SQL: a select of the loads of the run that not every one of `model_names` has
    processed yet (for one model: the loads it has to process). -#}
{% macro loads_pending_for(model_names) -%}
    {%- set names = [] -%}
    {%- for name in model_names -%}
        {%- do names.append(outbound_events.sql_string(name)) -%}
    {%- endfor -%}
    select load_id from {{ ref('int_loads_in_run') }}
    where load_id not in (
        select processed.load_id from {{ ref('int_loads_processed') }} as processed
        where processed.model_name in ({{ names | join(', ') }})
        group by processed.load_id
        having count(distinct processed.model_name) = {{ names | length }}
    )
{%- endmacro %}

{#- The ids of the loads this model has not processed yet, as a list known before the
    model's query runs (values_of: only for an incremental build or a backfill step,
    never in `dbt parse`). A constant list lets the engine push the filter down through
    the staging views into the raw tables, so only the new loads' records are parsed. -#}
{% macro new_load_ids() -%}
    {%- set pending = outbound_events.loads_pending_for([this.identifier]) -%}
    {%- if not execute or not (is_incremental() or outbound_events.loads_are_limited()) -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(outbound_events.values_of(pending)) }}
{%- endmacro %}

{#- The distinct values of the one column a select returns, as a sorted list: the one place that queries the warehouse while SQL compiles (for
    new_load_ids above, and for the data tests' window, macros/test_window.sql, which
    reads the work lists after the models ran). -#}
{% macro values_of(select_sql) -%}
    {{ return(run_query('select distinct * from (' ~ select_sql ~ ') as found order by 1')
        .columns[0].values() | list) }}
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

{#- SQL: true for a row of a load of this run (every row unless the run is a step of
    a backfill). -#}
{% macro in_loads_of_run(column='load_id') -%}
    {%- if outbound_events.loads_are_limited() -%}
        {{ column }} in (select load_id from {{ ref('int_loads_in_run') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- post_hook of every incremental model that follows the loads (tests/python/
    test_structure.py checks that each has it): it has now processed every load of the
    run. Inside the model's transaction on DuckDB: data and record commit together. -#}
{% macro record_processed_loads() -%}
    {{ return(adapter.dispatch('record_processed_loads', 'outbound_events')()) }}
{%- endmacro %}
{% macro spark__record_processed_loads() -%}
    insert overwrite table {{ ref('int_loads_processed') }}
    partition (model_name = '{{ this.identifier }}')
    select load_id from {{ ref('int_loads_in_run') }}
{%- endmacro %}
{% macro default__record_processed_loads() -%}
    delete from {{ ref('int_loads_processed') }} where model_name = '{{ this.identifier }}';
    insert into {{ ref('int_loads_processed') }} (model_name, load_id)
    select '{{ this.identifier }}', load_id from {{ ref('int_loads_in_run') }}
{%- endmacro %}

{#- pre_hook of the models whose rows can vanish or move (rejects, ledger, daily
    funnel): on an incremental run, delete the rows the run recomputes (on Spark,
    where a table has no delete, drop_deleted_partitions and with_rows_kept do it). -#}
{% macro delete_recomputed_rows(condition) -%}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }} where {{ condition }}
    {%- endif -%}
{%- endmacro %}

{#- Stable id of one staged record: provider, load, file and positions. -#}
{% macro record_id() -%}
    {{ dbt.hash(dbt.concat([
        'provider', "'|'", 'load_id', "'|'", 'source_file', "'|'",
        dbt.cast('source_position', dbt.type_string()), "'|'",
        dbt.cast('event_position', dbt.type_string())
    ])) }}
{%- endmacro %}

{#- The consumers of each work list: a list holds what not all of them have processed
    yet (a superset of what each one needs; recomputing more gives the same rows). -#}
{% macro copies_consumers() -%}
    {{ return(['int_events_deduplicated', 'rejected_events', 'load_ledger']) }}
{%- endmacro %}
{% macro users_consumers() -%}
    {{ return(['int_messages_aggregated', 'int_conversions_attributed', 'message_lifecycle',
        'engagement_funnel_daily', 'user_engagement']) }}
{%- endmacro %}
{% macro experiments_consumers() -%}
    {{ return(['experiment_assignments', 'experiment_lift']) }}
{%- endmacro %}

{#- SQL: false on a build from scratch (--full-refresh), where no model reads the work
    lists: they stay empty instead of listing all history. -#}
{% macro work_lists_needed() -%}
    {{ return('1 = 0' if flags.FULL_REFRESH else '1 = 1') }}
{%- endmacro %}

{#- SQL: true for a row of a load in int_loads_to_recompute. -#}
{% macro in_loads_to_recompute(column='load_id') -%}
    {{ column }} in (select load_id from {{ ref('int_loads_to_recompute') }})
{%- endmacro %}

{#- SQL: true for a row (of `relation`) of an experiment in int_experiments_to_recompute
    (what the experiment marts delete and rebuild on an incremental run). -#}
{% macro in_experiments_to_recompute(relation) -%}
    exists (
        select 1 from {{ ref('int_experiments_to_recompute') }} as recomputed
        where
            recomputed.provider = {{ relation }}.provider
            and recomputed.experiment_type = {{ relation }}.experiment_type
            and recomputed.experiment_id = {{ relation }}.experiment_id
    )
{%- endmacro %}

{#- SQL: whether an event's user is one of the ids `ids` selects, by either id it is
    known by (user_id or external_user_id; `relation` qualifies the columns). -#}
{% macro is_one_of_users(ids, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    ({{ prefix }}user_id in ({{ ids }}) or {{ prefix }}external_user_id in ({{ ids }}))
{%- endmacro %}
