{#- Vocabularies of the project, used by models and by the schema tests' docs. -#}

{% macro providers() -%}
    {{ return(['braze', 'crossengage', 'activatepro', 'outbound', 'customerio']) }}
{%- endmacro %}

{#- Event types that do not belong to one message sent to one user: they get no
    `message_key`. -#}
{% macro non_message_event_types() -%}
    {{ return(['custom', 'conversion', 'canvas_entry', 'control_enrollment',
               'subscription_change', 'inbound_message']) }}
{%- endmacro %}

{#- Lower-cased names of the custom events configured as conversion goals. -#}
{% macro conversion_goal_names() -%}
    {%- set names = [] -%}
    {%- for goal in var('outbound_events__conversion_goals', []) -%}
        {%- do names.append((goal.event_name if goal is mapping else goal) | trim | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- A SQL string literal, with quotes doubled: for values from project config. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
