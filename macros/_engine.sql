{#- Every engine-specific SQL construct of the project, each a dispatched primitive
    (adapter.dispatch(name, 'outbound_events')) with a `duckdb__` implementation.
    An engine without its `<adapter>__` version fails to compile, naming the macro. -#}

{#- Text of the JSON value at `path` ('$.a.b'): scalars as text, objects and arrays
    as JSON text, JSON null and missing keys as null. -#}
{% macro json_text(json_expr, path) %}{{ return(adapter.dispatch('json_text', 'outbound_events')(json_expr, path)) }}{% endmacro %}
{% macro duckdb__json_text(json_expr, path) -%}
    json_extract_string({{ json_expr }}, '{{ path }}')
{%- endmacro %}
{% macro spark__json_text(json_expr, path) -%}
    {#- get_json_object writes a fractional number as Java does (1709800901.25 as
        1.70980090125E9); the variant keeps its decimal text, as DuckDB does -#}
    case
        when get_json_object({{ json_expr }}, '{{ path }}') rlike '^-?[0-9]+([.][0-9]+)?E-?[0-9]+$'
            then try_variant_get(try_parse_json({{ json_expr }}), '{{ path }}', 'string')
        else get_json_object({{ json_expr }}, '{{ path }}')
    end
{%- endmacro %}

{#- The texts at many JSON paths of one document, as {path: expression}: on DuckDB
    one multi-path extraction (the document parsed once; the engine computes the shared
    list once per row), elsewhere one json_text per path. -#}
{% macro json_texts(json_expr, paths) %}{{ return(adapter.dispatch('json_texts', 'outbound_events')(json_expr, paths)) }}{% endmacro %}
{% macro default__json_texts(json_expr, paths) -%}
    {%- set texts = {} -%}
    {%- for path in paths -%}
        {%- do texts.update({path: outbound_events.json_text(json_expr, path)}) -%}
    {%- endfor -%}
    {{ return(texts) }}
{%- endmacro %}
{% macro duckdb__json_texts(json_expr, paths) -%}
    {%- set unique_paths = paths | unique(case_sensitive=true) | list -%}
    {%- set texts = {} -%}
    {%- for path in unique_paths -%}
        {%- do texts.update({path: "json_extract_string(" ~ json_expr ~ ", ['" ~ unique_paths | join("', '")
            ~ "'])[" ~ loop.index ~ "]"}) -%}
    {%- endfor -%}
    {{ return(texts) }}
{%- endmacro %}

{#- Kind of the JSON text: 'object', 'array', 'string', 'number', 'boolean', 'null',
    or 'invalid' when it does not parse (null for null text). -#}
{% macro json_kind(json_expr) %}{{ return(adapter.dispatch('json_kind', 'outbound_events')(json_expr)) }}{% endmacro %}
{% macro duckdb__json_kind(json_expr) -%}
    {#- one parse: try() turns the error of text that is no JSON into null -#}
    case
        when {{ json_expr }} is null then null
        else coalesce(
            case lower(try(json_type({{ json_expr }})))
                when 'object' then 'object'
                when 'array' then 'array'
                when 'varchar' then 'string'
                when 'boolean' then 'boolean'
                when 'null' then 'null'
                when 'bigint' then 'number'
                when 'ubigint' then 'number'
                when 'double' then 'number'
                when 'hugeint' then 'number'
            end,
            'invalid'
        )
    end
{%- endmacro %}
{% macro spark__json_kind(json_expr) -%}
    {#- one parse: try_parse_json gives null for text that is no JSON; the kind is the
        head of the variant's schema. Spark's parser accepts text after a complete
        value, DuckDB's does not: an object or array must at least end as one. -#}
    case
        when {{ json_expr }} is null then null
        else coalesce(
            case split_part(schema_of_variant(try_parse_json({{ json_expr }})), '<', 1)
                when 'OBJECT' then case when right(rtrim({{ json_expr }}), 1) = '}' then 'object' end
                when 'ARRAY' then case when right(rtrim({{ json_expr }}), 1) = ']' then 'array' end
                when 'STRING' then 'string'
                when 'BOOLEAN' then 'boolean'
                when 'VOID' then 'null'
                when 'BIGINT' then 'number'
                when 'DOUBLE' then 'number'
                when 'FLOAT' then 'number'
                when 'DECIMAL' then 'number'
            end,
            'invalid'
        )
    end
{%- endmacro %}

{#- RFC 7386 merge patch: keys of `patch_expr` overwrite those of `json_expr`, keys
    set to null in the patch are removed. -#}
{% macro json_merge_patch(json_expr, patch_expr) %}{{ return(adapter.dispatch('json_merge_patch', 'outbound_events')(json_expr, patch_expr)) }}{% endmacro %}
{% macro duckdb__json_merge_patch(json_expr, patch_expr) -%}
    cast(json_merge_patch({{ json_expr }}, {{ patch_expr }}) as varchar)
{%- endmacro %}
{% macro spark__json_merge_patch(json_expr, patch_expr) -%}
    {{ exceptions.raise_compiler_error('json_merge_patch: Spark has no JSON merge patch (spark__unmapped_properties works on maps instead)') }}
{%- endmacro %}

{#- From a relation, one row per element of the JSON array at `path` of
    `json_column`: the relation's `keep_columns`, `element_position` (1-based) and
    `element_json`. Only the kept columns are carried per element. -#}
{% macro json_array_elements(relation, json_column, path, keep_columns) %}{{ return(adapter.dispatch('json_array_elements', 'outbound_events')(relation, json_column, path, keep_columns)) }}{% endmacro %}
{% macro duckdb__json_array_elements(relation, json_column, path, keep_columns) -%}
    {#- json_each would carry the whole input text into every element row: a list of
        the elements, unnested with its subscripts, holds each element once. -#}
    select
        {%- for column in keep_columns %}
        {{ column }},
        {%- endfor %}
        element_position,
        cast(element_json as varchar) as element_json
    from (
        select
            {%- for column in keep_columns %}
            {{ column }},
            {%- endfor %}
            unnest(elements) as element_json,
            generate_subscripts(elements, 1) as element_position
        from (
            select
                {%- for column in keep_columns %}
                {{ column }},
                {%- endfor %}
                json_extract({{ json_column }}, '{{ path }}[*]') as elements
            from {{ relation }}
        ) as arrays
    ) as elements
{%- endmacro %}

{% macro spark__json_array_elements(relation, json_column, path, keep_columns) -%}
    {#- element texts as written (from_json to array<string> keeps an object's key
        order, which a variant sorts), scalars as JSON (array<string> unquotes
        strings); no row for a non-array, like DuckDB -#}
    {%- set array_text = json_column if path == '$' else outbound_events.json_text(json_column, path) -%}
    select
        {%- for column in keep_columns %}
        {{ column }},
        {%- endfor %}
        cast(element_index + 1 as bigint) as element_position,
        element_json
    from {{ relation }}
    lateral view posexplode(
        zip_with(
            from_json({{ array_text }}, 'array<string>'),
            from_json({{ array_text }}, 'array<variant>'),
            (raw, element) -> {{ outbound_events.spark_variant_json('raw', 'element') }}
        )
    ) elements as element_index, element_json
{%- endmacro %}

{#- JSON text of a variant parsed from text whose from_json string is `raw_expr`: an
    object or array as written (a variant sorts object keys), a scalar as JSON. -#}
{% macro spark_variant_json(raw_expr, variant_expr) -%}
    case when substring(to_json({{ variant_expr }}), 1, 1) in ('{', '[') then {{ raw_expr }} else to_json({{ variant_expr }}) end
{%- endmacro %}

{#- The non-null texts of `exprs` joined by `separator_expr` ('' when all are null). -#}
{% macro concat_ws_nonnull(separator_expr, exprs) %}{{ return(adapter.dispatch('concat_ws_nonnull', 'outbound_events')(separator_expr, exprs)) }}{% endmacro %}
{#- concat_ws skips nulls on DuckDB, Spark and Postgres alike. -#}
{% macro default__concat_ws_nonnull(separator_expr, exprs) -%}
    concat_ws({{ separator_expr }}, {{ exprs | join(', ') }})
{%- endmacro %}

{#- UTC timestamp from (fractional) epoch seconds given as text; magnitudes of 1e11
    or more (epoch milliseconds, garbage) give null instead of an overflow. -#}
{% macro epoch_seconds_to_timestamp(text_expr) -%}
    case
        when abs(try_cast({{ text_expr }} as double)) < 1e11
            then {{ outbound_events.timestamp_from_epoch_micros(
                'cast(round(try_cast(' ~ text_expr ~ ' as double) * 1000000) as bigint)') }}
    end
{%- endmacro %}
{#- The UTC timestamp of a count of microseconds since the epoch. -#}
{% macro timestamp_from_epoch_micros(micros_expr) %}{{ return(adapter.dispatch('timestamp_from_epoch_micros', 'outbound_events')(micros_expr)) }}{% endmacro %}
{% macro duckdb__timestamp_from_epoch_micros(micros_expr) %}make_timestamp({{ micros_expr }}){% endmacro %}
{% macro spark__timestamp_from_epoch_micros(micros_expr) %}timestamp_micros({{ micros_expr }}){% endmacro %}

{#- UTC timestamp from ISO-8601 text. With `Z`, an offset or a named IANA zone
    (`2024-05-01 09:00:00 Europe/Berlin`) it is converted to UTC; without a zone, or a
    bare date, it is read as UTC; anything else gives null. The session time zone never
    takes part. -#}
{% macro iso_text_to_utc_timestamp(text_expr) %}{{ return(adapter.dispatch('iso_text_to_utc_timestamp', 'outbound_events')(text_expr)) }}{% endmacro %}
{% macro duckdb__iso_text_to_utc_timestamp(text_expr) -%}
    case
        when regexp_full_match(trim({{ text_expr }}), '[0-9T :.-]*[0-9](Z|z|[+-][0-9]{2}(:?[0-9]{2})?| +[A-Za-z][A-Za-z0-9_+/-]*)')
            then timezone('UTC', try_cast(trim({{ text_expr }}) as timestamptz))
        when regexp_full_match(trim({{ text_expr }}), '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?')
            then try_cast(trim({{ text_expr }}) as timestamp)
    end
{%- endmacro %}

{% macro spark__iso_text_to_utc_timestamp(text_expr) -%}
    {#- Spark's cast reads Z, offsets (+hh, +hhmm, +hh:mm) and region ids after the
        time (null for an unknown zone, and for a lower-case z, as DuckDB's). Text without a zone is read as a timestamp
        without time zone and written back with a `Z`, so the session time zone never
        takes part. -#}
    case
        when {{ outbound_events.regexp_full_match('trim(' ~ text_expr ~ ')', '[0-9T :.-]*[0-9](Z|z|[+-][0-9]{2}(:?[0-9]{2})?| +[A-Za-z][A-Za-z0-9_+/-]*)') }}
            then try_cast(trim({{ text_expr }}) as timestamp)
        when {{ outbound_events.regexp_full_match('trim(' ~ text_expr ~ ')', '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?') }}
            then try_cast(concat(cast(try_cast(trim({{ text_expr }}) as timestamp_ntz) as string), 'Z') as timestamp)
    end
{%- endmacro %}

{#- True when the whole text matches the regular expression. -#}
{% macro regexp_full_match(text_expr, pattern) %}{{ return(adapter.dispatch('regexp_full_match', 'outbound_events')(text_expr, pattern)) }}{% endmacro %}
{% macro duckdb__regexp_full_match(text_expr, pattern) -%}
    regexp_full_match({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}
{#- A pattern as the body of a Spark (Java) regex string literal: POSIX classes and
    bracketed brackets as Java writes them, each backslash doubled for the literal. -#}
{% macro spark_regex_literal(pattern) -%}
    {{- pattern | replace('[[:space:]]', '\\s') | replace('[[]', '\\[') | replace('[]]', '\\]') | replace("\\", "\\\\") -}}
{%- endmacro %}
{% macro spark__regexp_full_match(text_expr, pattern) -%}
    ({{ text_expr }} rlike '^(?:{{ outbound_events.spark_regex_literal(pattern) }})$')
{%- endmacro %}

{#- True when the regular expression matches anywhere in the text. -#}
{% macro regexp_contains(text_expr, pattern) %}{{ return(adapter.dispatch('regexp_contains', 'outbound_events')(text_expr, pattern)) }}{% endmacro %}
{% macro duckdb__regexp_contains(text_expr, pattern) -%}
    regexp_matches({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}
{% macro spark__regexp_contains(text_expr, pattern) -%}
    ({{ text_expr }} rlike '{{ outbound_events.spark_regex_literal(pattern) }}')
{%- endmacro %}

{#- Every match of the regular expression replaced. -#}
{% macro regexp_replace_all(text_expr, pattern, replacement) %}{{ return(adapter.dispatch('regexp_replace_all', 'outbound_events')(text_expr, pattern, replacement)) }}{% endmacro %}
{% macro duckdb__regexp_replace_all(text_expr, pattern, replacement) -%}
    regexp_replace({{ text_expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(text_expr, pattern, replacement) -%}
    {#- Java writes group references as $1 -#}
    regexp_replace({{ text_expr }}, '{{ outbound_events.spark_regex_literal(pattern) }}', '{{ replacement | replace("\\1", "$1") | replace("\\2", "$2") }}')
{%- endmacro %}

{#- Lowercase hex SHA-256 of a text. -#}
{% macro sha256_hex(text_expr) %}{{ return(adapter.dispatch('sha256_hex', 'outbound_events')(text_expr)) }}{% endmacro %}
{% macro duckdb__sha256_hex(text_expr) -%}
    sha256({{ text_expr }})
{%- endmacro %}
{% macro spark__sha256_hex(text_expr) -%}
    sha2({{ text_expr }}, 256)
{%- endmacro %}

{#- Double-precision float type (dbt.type_float() is single precision on DuckDB). -#}
{% macro type_double() %}{{ return(adapter.dispatch('type_double', 'outbound_events')()) }}{% endmacro %}
{% macro default__type_double() %}double precision{% endmacro %}
{% macro duckdb__type_double() %}double{% endmacro %}
{% macro spark__type_double() %}double{% endmacro %}

{#- SQL: `body` (which names the value `name`) evaluated with `name` bound to the value
    of `expr`, so that a long expression used several times in `body` is written (and
    computed) once: a one-element list mapped by a lambda. -#}
{% macro bind(expr, name, body) %}{{ return(adapter.dispatch('bind', 'outbound_events')(expr, name, body)) }}{% endmacro %}
{% macro duckdb__bind(expr, name, body) -%}
    list_transform([{{ expr }}], lambda {{ name }}: {{ body }})[1]
{%- endmacro %}
{% macro spark__bind(expr, name, body) -%}
    transform(array({{ expr }}), {{ name }} -> {{ body }})[0]
{%- endmacro %}

{#- The error function erf(x) of a double, for the confidence of a z-score
    (erf(|z| / sqrt 2): docs/experiments.md). Neither DuckDB nor Spark SQL has one, so
    the default is Abramowitz & Stegun 7.1.26 (Handbook of Mathematical Functions,
    1964): erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2), t = 1 / (1 +
    p x) for x >= 0, and erf(-x) = -erf(x); its absolute error is below 1.5e-7 for every
    x (tests/python/test_experiments.py checks 1e-6 against Python's math.erf). `x` is
    written several times: pass a column, not a long expression. An engine with a
    native erf gets an `<adapter>__erf` returning it. Null in, null out. -#}
{% macro erf(x) %}{{ return(adapter.dispatch('erf', 'outbound_events')(x)) }}{% endmacro %}
{% macro default__erf(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.3275911 * abs(' ~ x ~ ')))' -%}
    case when {{ x }} < 0 then -1.0 else 1.0 end * (
        1.0 - {{ t }} * (0.254829592 + {{ t }} * (-0.284496736 + {{ t }} * (1.421413741
            + {{ t }} * (-1.453152027 + {{ t }} * 1.061405429)))) * exp(-({{ x }}) * ({{ x }}))
    )
{%- endmacro %}
