{#- on-run-start: create each raw table the sources declare (columns and types from
    the sources' YAML) where it does not exist yet, empty, so that `dbt build` works on
    a fresh warehouse. Existing tables are never altered or written: the loader owns
    their rows. The loader creates the same tables (tests/python check they agree).
    On Spark a raw table is an external Parquet table over the folder the loader
    publishes that table's loads to (src/outbound_events/loading/publish.py). -#}
{% macro create_raw_tables() -%}
    {%- set types = {'text': dbt.type_string(), 'bigint': dbt.type_bigint(), 'timestamp': dbt.type_timestamp()} -%}
    {%- if execute and not var('outbound_events__use_sample') -%}
        {%- for source in graph.sources.values() if source.package_name == project_name -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(column.name ~ ' ' ~ types[column.data_type]) -%}
            {%- endfor -%}
            {%- do run_query('create schema if not exists ' ~ source.schema) -%}
            {%- do run_query('create table if not exists ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' (' ~ columns | join(', ') ~ ')' ~ outbound_events.raw_table_storage(source.identifier)) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The storage clause of a raw table's create statement. -#}
{% macro raw_table_storage(identifier) %}{{ return(adapter.dispatch('raw_table_storage', 'outbound_events')(identifier)) }}{% endmacro %}
{% macro duckdb__raw_table_storage(identifier) %}{{ return('') }}{% endmacro %}
{% macro spark__raw_table_storage(identifier) -%}
    {%- set folder = env_var('OUTBOUND_EVENTS_SPARK_DIR', 'spark-warehouse') ~ '/raw/' ~ identifier -%}
    {{ return(' using parquet location ' ~ outbound_events.sql_string(folder)) }}
{%- endmacro %}
