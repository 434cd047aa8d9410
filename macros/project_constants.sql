{#- Vocabularies of the project, used by models and by the schema tests' docs. -#}

{% macro providers() -%}
    {{ return(['braze', 'crossengage', 'activatepro', 'outbound', 'customerio']) }}
{%- endmacro %}

{#- Reason codes of marts.rejected_events: staging and validation, deduplication, and
    the loader's (raw.load_rejections). -#}
{% macro rejection_reasons() -%}
    {{ return([
        'invalid_json', 'not_a_json_object', 'events_not_an_array', 'no_events', 'missing_event_name',
        'missing_user_id', 'missing_timestamp', 'timestamp_unparseable', 'timestamp_out_of_range',
        'conflicting_duplicate',
        'empty_file', 'not_avro', 'truncated_avro', 'unreadable_file', 'invalid_json_file', 'not_json',
        'not_utf8', 'record_too_large',
    ]) }}
{%- endmacro %}

{#- The conversion goals of var outbound_events__conversion_goals, each as
    {name: trimmed lower-cased event name, window_hours: its own window or none}.
    A goal is `{event_name: X, window_hours: N}` or just the event name. -#}
{% macro conversion_goals() -%}
    {%- set goals = [] -%}
    {%- for goal in var('outbound_events__conversion_goals', []) -%}
        {%- if goal is mapping -%}
            {%- do goals.append({'name': goal.event_name | trim | lower, 'window_hours': goal.get('window_hours')}) -%}
        {%- else -%}
            {%- do goals.append({'name': goal | trim | lower, 'window_hours': none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(goals) }}
{%- endmacro %}

{#- Lower-cased names of the custom events configured as conversion goals. -#}
{% macro conversion_goal_names() -%}
    {{ return(outbound_events.conversion_goals() | map(attribute='name') | list) }}
{%- endmacro %}

{#- A SQL string literal, with quotes doubled: for values from project config. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
