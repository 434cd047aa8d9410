{#- Use the configured schema name as it is (`marts`, not `main_marts`), so that a BI
    user finds `marts.outbound_events`. Models with no custom schema go to the
    target's schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
