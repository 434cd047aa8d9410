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
    {%- set unmapped = adapter.dispatch('unmapped_properties', 'outbound_events') -%}
    {#- JSON parsers rewrite numbers (1.10 as 1.1, -0 as 0, 1e-400 as 0.0, a 30-digit
        integer as a float): where the object holds such a number, its numbers travel
        as strings through the parser and are written back as the text that arrived -#}
    {%- set exact = outbound_events.bind(
        outbound_events.json_numbers_as_strings(json_expr), 'numbers_as_strings',
        unmapped('numbers_as_strings', fields, true)) -%}
    {{ return(adapter.dispatch('exact_numbers_where_needed', 'outbound_events')(
        json_expr, outbound_events.json_numbers_restored(exact), unmapped(json_expr, fields, false))) }}
{%- endmacro %}

{#- SQL: `exact` (the numbers kept as text) where the JSON text may hold a number a
    parser writes back otherwise, else the cheaper `plain`. Spark always takes `exact`:
    a view's text is bounded by its metastore (32,700 characters), and `exact` alone
    fits. -#}
{% macro default__exact_numbers_where_needed(json_expr, exact, plain) -%}
    case when {{ outbound_events.may_hold_inexact_numbers(json_expr) }} then {{ exact }} else {{ plain }} end
{%- endmacro %}
{% macro spark__exact_numbers_where_needed(json_expr, exact, plain) -%}
    {{ exact }}
{%- endmacro %}

{#- SQL: whether the JSON text may hold a number a parser would write back
    otherwise (a fraction, an exponent, 16 digits or more, `-0`); also true for some
    that it writes back the same (the text is then only read more carefully). -#}
{% macro may_hold_inexact_numbers(json_expr) -%}
    {{ outbound_events.regexp_contains(json_expr, '[0-9][.eE]|[0-9]{16}|-0') }}
{%- endmacro %}

{#- The marker before a number written as a string (json_numbers_as_strings). Its
    text cannot start a string of valid JSON that is not a marked number. -#}
{% macro json_number_marker() %}{{ return('#@num@#') }}{% endmacro %}

{#- Regular expressions of JSON tokens: a string's content (escapes kept), a whole
    string, and a number's text. -#}
{% macro json_string_content_pattern() %}{{ return('(?:[^"\\\\]|\\\\.)*') }}{% endmacro %}
{% macro json_string_pattern() %}{{ return('"' ~ outbound_events.json_string_content_pattern() ~ '"') }}{% endmacro %}
{% macro json_number_pattern() %}{{ return('-?[0-9][0-9.eE+-]*') }}{% endmacro %}

{#- SQL: the JSON text with every number (outside strings) written as a string, the
    marker then the number's text. One pass reads the text token by token (strings
    are matched whole, so a digit inside a string is left alone) and appends a marked
    number's text to every token; a second pass, reading the same tokens, removes
    the empty markers left after strings. -#}
{% macro json_numbers_as_strings(json_expr) -%}
    {%- set string = outbound_events.json_string_pattern() -%}
    {%- set marker = outbound_events.json_number_marker() -%}
    {{ outbound_events.regexp_replace_all(
        outbound_events.regexp_replace_all(json_expr, '(' ~ string ~ ')|(' ~ outbound_events.json_number_pattern() ~ ')', '\\1"' ~ marker ~ '\\2"'),
        '(' ~ string ~ ')(?:"' ~ marker ~ '")?', '\\1') }}
{%- endmacro %}

{#- SQL: the JSON text with every marked number written back as a number. -#}
{% macro json_numbers_restored(json_expr) -%}
    {{ outbound_events.regexp_replace_all(
        json_expr, '"' ~ outbound_events.json_number_marker() ~ '(' ~ outbound_events.json_number_pattern() ~ ')"', '\\1') }}
{%- endmacro %}

{#- The paths of `fields` as two trees {key: subtree, or none for a key a column
    took}: those at the top of the object, and those under `properties`. -#}
{% macro taken_key_trees(fields) -%}
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
    {{ return([top, nested]) }}
{%- endmacro %}

{% macro default__unmapped_properties(json_expr, fields, numbers_as_strings=false) -%}
    {%- set top, nested = outbound_events.taken_key_trees(fields) -%}
    {#- a `properties` object sent as a JSON string (Braze): its numbers too -#}
    {%- set properties_text = outbound_events.json_text(json_expr, '$.properties') -%}
    {%- if numbers_as_strings -%}
        {%- set properties_text = outbound_events.json_numbers_as_strings(properties_text) -%}
    {%- endif -%}
    {%- set rest = outbound_events.json_merge_patch(json_expr, "'" ~ tojson(top, sort_keys=true) ~ "'") -%}
    {%- do top.update({'properties': none}) -%}
    {%- set rest_without_properties = outbound_events.json_merge_patch(
        json_expr, "'" ~ tojson(top, sort_keys=true) ~ "'") -%}
    {%- set nested_rest = outbound_events.json_merge_patch(
        properties_text, "'" ~ tojson(nested, sort_keys=true) ~ "'") -%}
    nullif(
        case
            when {{ json_expr }} is null then null
            when {{ outbound_events.json_kind(properties_text) }} = 'object'
                then {{ outbound_events.json_merge_patch(rest_without_properties, nested_rest) }}
            else {{ rest }}
        end,
        '{}'
    )
{%- endmacro %}


{#- Spark has no merge patch: the object is read as a map of its keys to their JSON
    texts, the taken keys filtered out (a nested taken path filters the nested object,
    as the merge patch does: a missing or non-object parent becomes an object), the
    remaining keys of a `properties` object replace those of the top (its null values
    remove them, as the patch's do), and the map is written back as a JSON object, in
    the document's key order. -#}
{% macro spark__unmapped_properties(json_expr, fields, numbers_as_strings=false) -%}
    {%- set top, nested = outbound_events.taken_key_trees(fields) -%}
    {%- set object = outbound_events.spark_json_text_map(json_expr) -%}
    {#- the text of `properties`: an object's JSON, or a string's content (Braze sends
        custom properties as a JSON string), lifted when it is an object -#}
    {%- set properties_text = outbound_events.json_text(json_expr, '$.properties') -%}
    {%- if numbers_as_strings -%}
        {%- set properties_text = outbound_events.json_numbers_as_strings(properties_text) -%}
    {%- endif -%}
    {%- set nested_rest = outbound_events.spark_map_without(outbound_events.spark_json_text_map(properties_text), nested) -%}
    {%- do top.update({'properties': none}) -%}
    {%- set rest_without_properties = outbound_events.spark_map_without(object, top) -%}
    {%- do top.pop('properties') -%}
    {%- set merged -%}
        case
            when {{ outbound_events.json_kind(properties_text) }} = 'object'
                then map_concat(
                    map_filter({{ rest_without_properties }}, (k, v) -> not array_contains(map_keys({{ nested_rest }}), k)),
                    map_filter({{ nested_rest }}, (k, v) -> v != 'null')
                )
            else {{ outbound_events.spark_map_without(object, top) }}
        end
    {%- endset -%}
    nullif({{ outbound_events.spark_json_object_text(merged) }}, '{}')
{%- endmacro %}

{#- SQL: map<string, string> of the keys of the JSON object text to their values' JSON
    texts, in the document's order; null when the text is no object. -#}
{% macro spark_json_text_map(text_expr) -%}
    transform_values(
        from_json({{ text_expr }}, 'map<string,string>'),
        (key, raw) -> {{ outbound_events.spark_variant_json('raw', "from_json(" ~ text_expr ~ ", 'map<string,variant>')[key]") }}
    )
{%- endmacro %}

{#- SQL: the JSON object text of a map<string, string> of JSON texts. -#}
{% macro spark_json_object_text(map_expr) -%}
    concat('{', array_join(transform(map_entries({{ map_expr }}), e -> concat(to_json(cast(e.key as variant)), ':', e.value)), ','), '}')
{%- endmacro %}

{#- SQL: the map of JSON texts `map_expr` without the keys of `tree`; a key with a
    subtree comes last (in key order, as the merge patch writes a patched key), its
    value read as an object (a missing or non-object value as {}) without the
    subtree's keys. -#}
{% macro spark_map_without(map_expr, tree, depth=1) -%}
    {%- set k, v = 'k' ~ depth, 'v' ~ depth -%}
    {%- set keys = [] -%}
    {%- for key in tree -%}{%- do keys.append(outbound_events.sql_string(key)) -%}{%- endfor -%}
    {%- if not keys -%}{{ return(map_expr) }}{%- endif -%}
    {%- set parts = ['map_filter(' ~ map_expr ~ ', (' ~ k ~ ', ' ~ v ~ ') -> ' ~ k ~ ' not in (' ~ keys | join(', ') ~ '))'] -%}
    {%- for key in tree | sort if tree[key] is not none -%}
        {%- set child = outbound_events.spark_map_without(
            'coalesce(' ~ outbound_events.spark_json_text_map(map_expr ~ '[' ~ outbound_events.sql_string(key) ~ ']')
            ~ ', cast(map() as map<string,string>))', tree[key], depth + 1) -%}
        {%- do parts.append('map(' ~ outbound_events.sql_string(key) ~ ', ' ~ outbound_events.spark_json_object_text(child) ~ ')') -%}
    {%- endfor -%}
    {{ return(parts[0] if parts | length == 1 else 'map_concat(' ~ parts | join(', ') ~ ')') }}
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


{#- True when the text is a (signed, possibly fractional) decimal number, also in
    exponent notation (`1.70980090125E9`: how Java writes a JSON number it re-reads). -#}
{% macro is_numeric_text(text_expr) -%}
    {{ outbound_events.regexp_full_match("trim(" ~ text_expr ~ ")", '-?[0-9]+([.][0-9]+)?([eE][+-]?[0-9]+)?') }}
{%- endmacro %}


{#- Why a raw payload cannot be read as one JSON object, from its json_kind: null
    when it can. -#}
{% macro payload_parse_error(kind_column) -%}
    case
        when {{ kind_column }} = 'invalid' then 'invalid_json'
        when {{ kind_column }} != 'object' then 'not_a_json_object'
    end
{%- endmacro %}
