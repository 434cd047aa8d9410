{#- Helpers of the staging models, built on the dispatched primitives of _engine.sql. -#}

{#- One `<expression> as <column>` line per field of a staging model's field list.
    A field is (column, [JSON paths]) or (column, [JSON paths], data_type): the first
    non-empty text among the paths (trimmed; '' counts as missing), cast if typed. -#}
{% macro json_field_columns(json_expr, fields) -%}
    {%- set texts = outbound_events.json_texts(json_expr, fields | map(attribute=1) | sum(start=[])) -%}
    {%- for field in fields %}
        {%- set values = [] %}
        {%- for path in field[1] %}
            {%- do values.append("nullif(trim(" ~ texts[path] ~ "), '')") %}
        {%- endfor %}
        {%- set value = values[0] if values | length == 1 else "coalesce(" ~ values | join(", ") ~ ")" %}
        {{ dbt.safe_cast(value, field[2]) if field | length > 2 else value }} as {{ field[0] }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- JSON text of every field of the object that no column took (the paths of
    `fields`), a nested `properties` object lifted to the top level so that custom
    properties are addressable as `$.a.b`; null when nothing is left. -#}
{% macro unmapped_properties(json_expr, fields) -%}
    {%- set top, nested = {}, {} -%}
    {%- for path in fields | map(attribute=1) | sum(start=[]) -%}
        {%- set segments = path[2:].split('.') -%}
        {%- set ns = namespace(node=nested if segments[0] == 'properties' else top) -%}
        {%- for segment in (segments[1:] if segments[0] == 'properties' else segments)[:-1] -%}
            {%- do ns.node.update({segment: ns.node.get(segment) or {}}) -%}
            {%- set ns.node = ns.node[segment] -%}
        {%- endfor -%}
        {%- do ns.node.update({segments[-1]: none}) -%}
    {%- endfor -%}
    {%- set rest = outbound_events.json_merge_patch(json_expr, "'" ~ tojson(top, sort_keys=true) ~ "'") -%}
    {%- do top.update({'properties': none}) -%}
    {%- set rest_without_properties = outbound_events.json_merge_patch(
        json_expr, "'" ~ tojson(top, sort_keys=true) ~ "'") -%}
    {%- set nested_rest = outbound_events.json_merge_patch(
        outbound_events.json_text(json_expr, '$.properties'), "'" ~ tojson(nested, sort_keys=true) ~ "'") -%}
    nullif(
        case
            when {{ json_expr }} is null then null
            when {{ outbound_events.json_kind(outbound_events.json_text(json_expr, '$.properties')) }} = 'object'
                then {{ outbound_events.json_merge_patch(rest_without_properties, nested_rest) }}
            else {{ rest }}
        end,
        '{}'
    )
{%- endmacro %}


{#- UTC timestamp of an event time given as text: epoch seconds when numeric, else
    ISO-8601 (Z, offset, named zone, no zone, or a bare date). Null when unparseable. -#}
{% macro parse_event_timestamp(text_expr) -%}
    case
        when {{ outbound_events.is_numeric_text(text_expr) }}
            then {{ outbound_events.epoch_seconds_to_timestamp(text_expr) }}
        else {{ outbound_events.iso_text_to_utc_timestamp(text_expr) }}
    end
{%- endmacro %}


{#- True when the text is a (signed, possibly fractional) decimal number. -#}
{% macro is_numeric_text(text_expr) -%}
    {{ outbound_events.regexp_full_match("trim(" ~ text_expr ~ ")", '-?[0-9]+([.][0-9]+)?') }}
{%- endmacro %}


{#- Why a raw payload cannot be read as one JSON object, from its json_kind: null
    when it can. -#}
{% macro payload_parse_error(kind_column) -%}
    case
        when {{ kind_column }} = 'invalid' then 'invalid_json'
        when {{ kind_column }} != 'object' then 'not_a_json_object'
    end
{%- endmacro %}
