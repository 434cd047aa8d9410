{#- `union all` of relations whose columns differ: the result has every column of any
    of them (in order of first appearance, typed as where it first appears), a typed
    null where a relation lacks one. Columns are read from the warehouse, so the
    relations must be built first (they are: refs run before their children). -#}
{% macro union_relations(relations) -%}
    {%- set columns, types = [], {} -%}
    {%- for relation in relations if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower not in types -%}
            {%- do columns.append(column.name | lower) -%}
            {%- do types.update({column.name | lower: column.data_type}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for relation in relations %}
        {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list if columns else [] %}
    select
        {%- for column in columns %}
        {{ column if column in present else 'cast(null as ' ~ types[column] ~ ') as ' ~ column }}{{ ',' if not loop.last }}
        {%- else %}
        *
        {%- endfor %}
    from {{ relation }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The relation of a raw table (source `source_name`.`table_name`). With var
    outbound_events__use_sample the source is the bundled sample seed of the same name
    in `sample_raw`: the model then also refs that seed, so that a plain
    `dbt build --vars '{outbound_events__use_sample: true}'` on a fresh warehouse seeds
    it before the model reads it (not in a unit test, whose inputs are its fixtures). -#}
{% macro raw_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if var('outbound_events__use_sample') and model.resource_type != 'unit_test' -%}
        {#- the seed's name is the table's identifier (by name: at parse time source()
            returns no real relation) -#}
        {%- do ref(table_name if source_name == 'loader' else source_name ~ '__' ~ table_name) -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
