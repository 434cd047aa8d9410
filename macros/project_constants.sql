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

{#- `true` or `false`: whether purchases (Braze `users.behaviors.Purchase`) are
    conversion goals (var outbound_events__purchases_are_conversion_goals). -#}
{% macro purchases_are_goals() -%}
    {{ return('true' if outbound_events.var_is_on('outbound_events__purchases_are_conversion_goals', true) else 'false') }}
{%- endmacro %}

{#- SQL: true for an open or click that the funnels do not count as a person's
    (an email open Braze marks as a machine open, a click it suspects of being a
    bot's), unless var outbound_events__count_machine_engagement counts everything.
    `relation` is the alias of an int_events_deduplicated row. -#}
{% macro is_machine_engagement(relation) -%}
    {%- if outbound_events.var_is_on('outbound_events__count_machine_engagement') -%}
        false
    {%- else -%}
        coalesce({{ relation }}.is_machine_open or {{ relation }}.is_suspected_bot_click, false)
    {%- endif -%}
{%- endmacro %}

{#- Whether a boolean var is on (true, or the text `true`, `1`, `yes`: vars set from
    environment variables arrive as text). -#}
{% macro var_is_on(name, default=false) -%}
    {{ return(var(name, default) | string | lower in ['true', '1', 'yes']) }}
{%- endmacro %}

{#- The conversion window of experiments in hours (var
    outbound_events__experiment_window_hours, default 720: Braze's longest conversion
    deadline, 30 days), as a number; anything but a positive number stops the
    compilation, naming the var and the value. -#}
{% macro experiment_window_hours() -%}
    {%- set text = var('outbound_events__experiment_window_hours', 720) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+([.][0-9]+)?', text) or text | float <= 0 -%}
        {{ exceptions.raise_compiler_error(
            'var outbound_events__experiment_window_hours must be a positive number of hours, not "'
            ~ text ~ '"') }}
    {%- endif -%}
    {{ return(text | float) }}
{%- endmacro %}
