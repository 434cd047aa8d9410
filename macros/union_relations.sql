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
