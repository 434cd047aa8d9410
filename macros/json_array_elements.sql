{#- A select over `relation_cte` with one row per element of the JSON array at
    `path` in `json_column`: all columns of the CTE, plus `element_position` (1-based)
    and `element_json` (the element as JSON text). Rows whose value at `path` is not an
    array give no rows. -#}
{% macro json_array_elements(relation_cte, json_column, path) -%}
    {{ return(adapter.dispatch('json_array_elements', 'outbound_events')(relation_cte, json_column, path)) }}
{%- endmacro %}

{% macro default__json_array_elements(relation_cte, json_column, path) -%}
    {{ outbound_events.not_implemented_for_adapter('json_array_elements') }}
{%- endmacro %}

{% macro duckdb__json_array_elements(relation_cte, json_column, path) -%}
    select
        {{ relation_cte }}.*,
        cast(elements.key as bigint) + 1 as element_position,
        cast(elements.value as varchar) as element_json
    from {{ relation_cte }}
    cross join json_each({{ relation_cte }}.{{ json_column }}, '{{ path }}') as elements
{%- endmacro %}
