{#- Engine-specific SQL lives only in the dispatched macros below (and in
    json_array_elements.sql). Each has a `duckdb__` implementation; `default__`
    stops compilation with a message that names the macro and the adapter, so a new
    engine fails loudly until its `<adapter>__` implementation is written. -#}

{% macro not_implemented_for_adapter(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        "outbound_events." ~ macro_name ~ " has no implementation for the '"
        ~ adapter.type() ~ "' adapter: add " ~ adapter.type() ~ "__" ~ macro_name
        ~ " in macros/"
    ) }}
{%- endmacro %}


{#- Text of the JSON value at `path` ('$.a.b'); scalars come back as their text,
    objects and arrays as JSON text, JSON null and missing keys as SQL null. -#}
{% macro json_text(json_expr, path) -%}
    {{ return(adapter.dispatch('json_text', 'outbound_events')(json_expr, path)) }}
{%- endmacro %}
{% macro default__json_text(json_expr, path) -%}
    {{ outbound_events.not_implemented_for_adapter('json_text') }}
{%- endmacro %}
{% macro duckdb__json_text(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}


{#- True when the text parses as JSON (any JSON value). -#}
{% macro json_is_valid(text_expr) -%}
    {{ return(adapter.dispatch('json_is_valid', 'outbound_events')(text_expr)) }}
{%- endmacro %}
{% macro default__json_is_valid(text_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('json_is_valid') }}
{%- endmacro %}
{% macro duckdb__json_is_valid(text_expr) -%}
    coalesce(json_valid({{ text_expr }}), false)
{%- endmacro %}


{#- Kind of a valid JSON value at `path`: 'object', 'array', 'string', 'number',
    'boolean', 'null', or SQL null when the path is missing. -#}
{% macro json_kind(json_expr, path='$') -%}
    {{ return(adapter.dispatch('json_kind', 'outbound_events')(json_expr, path)) }}
{%- endmacro %}
{% macro default__json_kind(json_expr, path) -%}
    {{ outbound_events.not_implemented_for_adapter('json_kind') }}
{%- endmacro %}
{% macro duckdb__json_kind(json_expr, path) -%}
    case lower(json_type({{ json_expr }}, '{{ path }}'))
        when 'object' then 'object'
        when 'array' then 'array'
        when 'varchar' then 'string'
        when 'bigint' then 'number'
        when 'ubigint' then 'number'
        when 'double' then 'number'
        when 'boolean' then 'boolean'
        when 'null' then 'null'
    end
{%- endmacro %}


{#- RFC 7386 merge patch: keys of `patch_expr` overwrite those of `json_expr`,
    keys set to null in the patch are removed. -#}
{% macro json_merge_patch(json_expr, patch_expr) -%}
    {{ return(adapter.dispatch('json_merge_patch', 'outbound_events')(json_expr, patch_expr)) }}
{%- endmacro %}
{% macro default__json_merge_patch(json_expr, patch_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('json_merge_patch') }}
{%- endmacro %}
{% macro duckdb__json_merge_patch(json_expr, patch_expr) -%}
    cast(json_merge_patch({{ json_expr }}, {{ patch_expr }}) as varchar)
{%- endmacro %}


{#- A JSON object {"<key>": <text value>} (text value may be null). -#}
{% macro json_object_of_text(key, text_expr) -%}
    {{ return(adapter.dispatch('json_object_of_text', 'outbound_events')(key, text_expr)) }}
{%- endmacro %}
{% macro default__json_object_of_text(key, text_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('json_object_of_text') }}
{%- endmacro %}
{% macro duckdb__json_object_of_text(key, text_expr) -%}
    cast(json_object('{{ key }}', {{ text_expr }}) as varchar)
{%- endmacro %}


{#- JSON text in a canonical compact form (no insignificant white space), so that
    two copies of one record that differ only in spacing hash alike. -#}
{% macro json_minify(json_expr) -%}
    {{ return(adapter.dispatch('json_minify', 'outbound_events')(json_expr)) }}
{%- endmacro %}
{% macro default__json_minify(json_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('json_minify') }}
{%- endmacro %}
{% macro duckdb__json_minify(json_expr) -%}
    cast(json({{ json_expr }}) as varchar)
{%- endmacro %}


{#- UTC timestamp from (possibly fractional) seconds since the epoch, given as text.
    Values whose magnitude is 1e11 or more (epoch milliseconds, garbage) give null
    instead of an overflow. -#}
{% macro epoch_seconds_to_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'outbound_events')(text_expr)) }}
{%- endmacro %}
{% macro default__epoch_seconds_to_timestamp(text_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('epoch_seconds_to_timestamp') }}
{%- endmacro %}
{% macro duckdb__epoch_seconds_to_timestamp(text_expr) -%}
    case
        when abs(try_cast({{ text_expr }} as double)) < 1e11
            then make_timestamp(cast(round(try_cast({{ text_expr }} as double) * 1000000) as bigint))
    end
{%- endmacro %}


{#- UTC timestamp from ISO-8601 text: with `Z` or an offset it is converted to UTC;
    without a zone (or a bare date) it is read as UTC; unparsable text gives null.
    The session time zone never takes part. -#}
{% macro iso_text_to_utc_timestamp(text_expr) -%}
    {{ return(adapter.dispatch('iso_text_to_utc_timestamp', 'outbound_events')(text_expr)) }}
{%- endmacro %}
{% macro default__iso_text_to_utc_timestamp(text_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('iso_text_to_utc_timestamp') }}
{%- endmacro %}
{% macro duckdb__iso_text_to_utc_timestamp(text_expr) -%}
    case
        when regexp_full_match(trim({{ text_expr }}), '.*[0-9](Z|z|[+-][0-9]{2}(:?[0-9]{2})?)')
            then timezone('UTC', try_cast(trim({{ text_expr }}) as timestamptz))
        else try_cast(trim({{ text_expr }}) as timestamp)
    end
{%- endmacro %}


{#- True when the whole text matches the regular expression. -#}
{% macro regexp_full_match(text_expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'outbound_events')(text_expr, pattern)) }}
{%- endmacro %}
{% macro default__regexp_full_match(text_expr, pattern) -%}
    {{ outbound_events.not_implemented_for_adapter('regexp_full_match') }}
{%- endmacro %}
{% macro duckdb__regexp_full_match(text_expr, pattern) -%}
    regexp_full_match({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}


{#- Every match of the regular expression replaced. -#}
{% macro regexp_replace_all(text_expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'outbound_events')(text_expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(text_expr, pattern, replacement) -%}
    {{ outbound_events.not_implemented_for_adapter('regexp_replace_all') }}
{%- endmacro %}
{% macro duckdb__regexp_replace_all(text_expr, pattern, replacement) -%}
    regexp_replace({{ text_expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}


{#- Lowercase hex SHA-256 of a text. -#}
{% macro sha256_hex(text_expr) -%}
    {{ return(adapter.dispatch('sha256_hex', 'outbound_events')(text_expr)) }}
{%- endmacro %}
{% macro default__sha256_hex(text_expr) -%}
    {{ outbound_events.not_implemented_for_adapter('sha256_hex') }}
{%- endmacro %}
{% macro duckdb__sha256_hex(text_expr) -%}
    sha256({{ text_expr }})
{%- endmacro %}


{#- Text cut to at most `max_chars` characters. -#}
{% macro truncate_text(text_expr, max_chars) -%}
    {{ return(adapter.dispatch('truncate_text', 'outbound_events')(text_expr, max_chars)) }}
{%- endmacro %}
{% macro default__truncate_text(text_expr, max_chars) -%}
    substring({{ text_expr }}, 1, {{ max_chars }})
{%- endmacro %}


{#- True when the regular expression matches anywhere in the text. -#}
{% macro regexp_contains(text_expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'outbound_events')(text_expr, pattern)) }}
{%- endmacro %}
{% macro default__regexp_contains(text_expr, pattern) -%}
    {{ outbound_events.not_implemented_for_adapter('regexp_contains') }}
{%- endmacro %}
{% macro duckdb__regexp_contains(text_expr, pattern) -%}
    regexp_matches({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}


{#- Double-precision float type (dbt.type_float() is single precision on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'outbound_events')()) }}
{%- endmacro %}
{% macro default__type_double() -%}
    double precision
{%- endmacro %}
{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
