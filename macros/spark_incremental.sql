{#- Incremental models on Spark (plain Parquet tables: no delete, no merge), with
    `insert_overwrite` of partitions (docs/spark.md "Incremental on Spark").

    On DuckDB an incremental model deletes the rows a run recomputes (its unique key
    is in the new rows, or a condition on a work list) and inserts the new rows. On
    Spark dbt-spark sets `spark.sql.sources.partitionOverwriteMode=dynamic`, so an
    `insert overwrite` replaces exactly the partitions its rows fall in. The same
    delete+insert, per partition:
    - pre-hook `drop_deleted_partitions`: the partitions every row of which the run
      deletes are dropped (a partition the new rows no longer reach would otherwise
      keep its old rows: a dynamic overwrite only replaces the partitions it writes);
    - the model ends with `with_rows_kept(...)`: the new rows, and the rows of
      `{{ this }}` the run does not delete in the partitions it writes (those holding
      a deleted row or a new row), so each written partition is whole again.
    Dynamic overwrite writes to a staging folder and moves it in at the end, so the
    query may read the table it overwrites. A kill after the drop and before the
    overwrite loses only rows the run deletes anyway: it has not recorded its loads,
    and the next run deletes and recomputes the same rows. -#}

{#- Config: the whole config of a model that follows the loads (docs/incremental.md),
    `config(outbound_events.follows_loads(...))`:
    - incremental (on Spark partitioned by spark_partition_column with
      insert_overwrite, or rebuilt whole when it has none), new columns appended;
    - `strategy` and `unique_key` on DuckDB ('delete+insert' by the key, or 'append');
    - `deletes` (with 'append'): the Jinja expression of the condition of the rows of
      `this` a run recomputes, deleted by a pre-hook before the new rows go in;
    - pre-hook drop_deleted_partitions (Spark), post-hook record_processed_loads. -#}
{% macro follows_loads(strategy, unique_key=none, deletes=none) -%}
    {%- set pre_hook = ["{{ outbound_events.drop_deleted_partitions() }}"] -%}
    {%- if deletes -%}
        {%- do pre_hook.append("{{ outbound_events.delete_recomputed_rows(" ~ deletes ~ ") }}") -%}
    {%- endif -%}
    {{ return({
        'materialized': outbound_events.incremental_materialized(),
        'incremental_strategy': outbound_events.incremental_strategy(strategy),
        'unique_key': unique_key,
        'partition_by': outbound_events.spark_partition_by(),
        'on_schema_change': 'append_new_columns',
        'pre_hook': pre_hook,
        'post_hook': ["{{ outbound_events.record_processed_loads() }}"],
    }) }}
{%- endmacro %}

{#- Config: the materialization of a model that follows the loads. On Spark a model
    without a partition column (spark_partition_column) is rebuilt whole. -#}
{% macro incremental_materialized() -%}
    {{ return(adapter.dispatch('incremental_materialized', 'outbound_events')()) }}
{%- endmacro %}
{% macro default__incremental_materialized() %}{{ return('incremental') }}{% endmacro %}
{% macro spark__incremental_materialized() -%}
    {{ return('incremental' if outbound_events.spark_partition_column(this.identifier) else 'table') }}
{%- endmacro %}

{#- Config: the incremental strategy (`strategy` elsewhere, insert_overwrite on Spark). -#}
{% macro incremental_strategy(strategy) -%}
    {{ return(adapter.dispatch('incremental_strategy', 'outbound_events')(strategy)) }}
{%- endmacro %}
{% macro default__incremental_strategy(strategy) %}{{ return(strategy) }}{% endmacro %}
{% macro spark__incremental_strategy(strategy) %}{{ return('insert_overwrite') }}{% endmacro %}

{#- How each incremental model is partitioned on Spark (docs/spark.md "Incremental on
    Spark" says why), and what a run deletes from it:
    - `column`: the partition column (last in the Spark table), `expression` when the
      model computes it on Spark only (the other engines' columns stay as they are);
    - the rows of `this` the run deletes: those whose `unique_key` is in `keys` (a
      select of one column, from a work list), or those `deleted` holds for (a
      condition on a work list; `existing` names `this`);
    - `touched` (optional, a select of partition values from a work list): a superset
      of the partitions the run's new and deleted rows fall in; without it they are
      those of the new rows and of the deleted rows.
    A model not listed is rebuilt whole on Spark. -#}
{% macro spark_partition_column(model_name) -%}
    {{ return({
        'int_events_deduplicated': 'load_id',
        'rejected_events': 'load_id',
        'load_ledger': 'load_id',
        'int_messages_aggregated': 'message_date',
        'message_lifecycle': 'message_date',
        'int_conversions_attributed': 'converted_date',
        'engagement_funnel_daily': 'message_date',
        'experiment_assignments': 'experiment_id',
        'experiment_lift': 'experiment_id',
    }.get(model_name)) }}
{%- endmacro %}
{% macro spark_partitioning(model_name) -%}
    {#- each branch refs only the work lists its model reads (ref() makes lineage);
        none for another model (a unit test's name: it builds from its given rows) -#}
    {%- if outbound_events.spark_partition_column(model_name) is none -%}
        {{ return(none) }}
    {%- elif model_name == 'int_events_deduplicated' -%}
        {%- set spec = {
            'unique_key': 'event_id',
            'keys': 'select event_id from ' ~ ref('int_event_ids_with_new_copies'),
            'touched': 'select load_id from ' ~ ref('int_loads_to_recompute'),
        } -%}
    {%- elif model_name in ['rejected_events', 'load_ledger'] -%}
        {%- set spec = {
            'deleted': outbound_events.in_loads_to_recompute('existing.load_id'),
            'touched': 'select load_id from ' ~ ref('int_loads_to_recompute'),
        } -%}
    {%- elif model_name in ['int_messages_aggregated', 'message_lifecycle'] -%}
        {%- set spec = {
            'unique_key': 'message_key',
            'keys': 'select message_key from ' ~ ref('int_messages_to_recompute'),
        } -%}
    {%- elif model_name == 'int_conversions_attributed' -%}
        {%- set spec = {
            'expression': 'cast(converted_at as date)',
            'unique_key': 'conversion_event_id',
            'keys': outbound_events.conversions_of_users_to_recompute(),
        } -%}
    {%- elif model_name == 'engagement_funnel_daily' -%}
        {%- set spec = {'deleted': outbound_events.in_funnel_days_to_recompute('existing')} -%}
    {%- elif model_name in ['experiment_assignments', 'experiment_lift'] -%}
        {%- set spec = {
            'deleted': outbound_events.in_experiments_to_recompute('existing'),
            'touched': 'select experiment_id from ' ~ ref('int_experiments_to_recompute'),
        } -%}
    {%- endif -%}
    {{ return(dict(spec, column=outbound_events.spark_partition_column(model_name))) }}
{%- endmacro %}

{#- Config: the partition columns of this model (Spark only). -#}
{% macro spark_partition_by() -%}
    {%- set column = outbound_events.spark_partition_column(this.identifier) -%}
    {{ return([column] if target.type == 'spark' and column else none) }}
{%- endmacro %}

{#- SQL: the condition of the rows of `this` (named `existing`) a run deletes. -#}
{% macro deleted_rows_condition(spec) -%}
    {%- if spec.get('deleted') -%}
        {{ spec['deleted'] }}
    {%- else -%}
        existing.{{ spec['unique_key'] }} in ({{ spec['keys'] }})
    {%- endif -%}
{%- endmacro %}

{#- pre_hook: on an incremental Spark run, drop the partitions of `this` all of whose
    rows the run deletes. Nothing elsewhere (DuckDB deletes in its own statement). -#}
{% macro drop_deleted_partitions() -%}
    {{ return(adapter.dispatch('drop_deleted_partitions', 'outbound_events')()) }}
{%- endmacro %}
{% macro default__drop_deleted_partitions() %}{% endmacro %}
{% macro spark__drop_deleted_partitions() -%}
    {%- if execute and is_incremental() -%}
        {%- set spec = outbound_events.spark_partitioning(this.identifier) -%}
        {%- set column = spec['column'] -%}
        {%- set condition = outbound_events.deleted_rows_condition(spec) -%}
        {%- set in_touched = ' and existing.' ~ column ~ ' in (' ~ spec['touched'] ~ ')' if spec.get('touched') else '' -%}
        {%- set query -%}
            select existing.{{ column }} from {{ this }} as existing
            where {{ condition }}{{ in_touched }}
            except
            select existing.{{ column }} from {{ this }} as existing
            where not ({{ condition }}){{ in_touched }}
        {%- endset -%}
        {%- set specs = [] -%}
        {%- for value in run_query(query).columns[0].values() if value is not none -%}
            {%- do specs.append('partition (' ~ column ~ ' = ' ~ outbound_events.sql_string(value | string) ~ ')') -%}
        {%- endfor -%}
        {%- if specs -%}
            alter table {{ this }} drop if exists {{ specs | join(', ') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether a model's last select is with_rows_kept() (Spark) or `select * from
    <its last CTE>` (elsewhere: delete+insert needs no more). -#}
{% macro keeps_rows() -%}
    {{ return(adapter.dispatch('keeps_rows', 'outbound_events')()) }}
{%- endmacro %}
{% macro default__keeps_rows() %}{{ return(false) }}{% endmacro %}
{% macro spark__keeps_rows() %}{{ return(true) }}{% endmacro %}

{#- SQL (Spark): the model's last select, from its last CTE (`relation`). The
    partition column is added where the model computes it on Spark only, and on an
    incremental run the select holds the new rows and, in every partition they or
    the deleted rows fall in, the rows of `this` the run does not delete (the pre-hook
    dropped the partitions with no such row). -#}
{% macro with_rows_kept(relation='final') -%}
    {{ return(adapter.dispatch('with_rows_kept', 'outbound_events')(relation)) }}
{%- endmacro %}
{% macro default__with_rows_kept(relation) -%}
    select * from {{ relation }}
{%- endmacro %}
{% macro spark__with_rows_kept(relation) -%}
    {%- set spec = outbound_events.spark_partitioning(this.identifier) -%}
    {%- if spec is none -%}
        {{ return('select * from ' ~ relation) }}
    {%- endif -%}
    {%- set column = spec['column'] -%}
    {%- set new_rows -%}
        {%- if spec.get('expression') -%}
            (select *, {{ spec['expression'] }} as {{ column }} from {{ relation }}) as new_rows
        {%- else -%}
            {{ relation }} as new_rows
        {%- endif -%}
    {%- endset -%}
    {%- if not is_incremental() -%}
        select * from {{ new_rows }}
    {%- else -%}
        {%- set condition = outbound_events.deleted_rows_condition(spec) -%}
        {#- the documented columns (tests/python/test_structure.py: every column of an
            incremental model is documented), not a query of `this` while compiling -#}
        {%- set names = model.columns.keys() | list -%}
        {%- if column not in names -%}
            {%- do names.append(column) -%}
        {%- endif -%}
        {%- set columns = names | join(', ') -%}
        select {{ columns }} from {{ new_rows }}
        union all
        select {{ columns }} from {{ this }} as existing
        where
            not ({{ condition }})
            {%- if spec.get('touched') %}
            and existing.{{ column }} in ({{ spec['touched'] }})
            {%- else %}
            and (
                existing.{{ column }} in (select new_rows.{{ column }} from {{ new_rows }})
                or existing.{{ column }} in (
                    select existing.{{ column }} from {{ this }} as existing
                    where {{ condition }}
                )
            )
            {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- SQL: the conversion event ids int_conversions_attributed recomputes: the events of
    the ids in int_users_to_recompute (by user id or external user id). -#}
{% macro conversions_of_users_to_recompute() -%}
    {%- set users = 'select match_id from ' ~ ref('int_users_to_recompute') -%}
    select event_id from {{ ref('int_events_deduplicated') }}
    where {{ outbound_events.is_one_of_users(users) }}
{%- endmacro %}
