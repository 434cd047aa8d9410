{#- on-run-start: create each raw table the sources declare (columns and types from
    the sources' YAML) where it does not exist yet, empty, so that `dbt build` works on
    a fresh warehouse. Existing tables are never altered or written: the loader owns
    their rows. The loader creates the same tables (tests/python check they agree). -#}
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
                ~ ' (' ~ columns | join(', ') ~ ')') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
