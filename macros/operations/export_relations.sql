{#- run-operation (src/outbound_events/spark_snapshot.py): each relation
    (`schema.table`, checked to exist) written as a folder of Parquet files under
    `directory`, for the CLI to read a Spark warehouse without a session of its own. -#}
{% macro export_relations(relations, directory) -%}
    {%- for name in relations -%}
        {%- set parts = name.split('.') -%}
        {%- set relation = adapter.get_relation(database=none, schema=parts[0], identifier=parts[1]) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error('the warehouse has no table ' ~ name) }}
        {%- endif -%}
        {%- do run_query('insert overwrite directory ' ~ outbound_events.sql_string(directory ~ '/' ~ name)
            ~ ' using parquet select * from ' ~ relation) -%}
    {%- endfor -%}
{%- endmacro %}
