{#- Personal data before the marts (README "Personal data"). Unless var
    outbound_events__keep_pii is true: personal identifiers (email address, phone
    numbers, IP, advertising id) and any id that holds an e-mail address or a phone
    number become the SHA-256 of salt + lower-cased trimmed value (still joinable);
    free text and JSON have e-mail addresses and phone numbers masked; URLs also lose
    the values of personal query parameters. Salt: env var OUTBOUND_EVENTS_PII_SALT. -#}

{% macro keeps_pii() -%}
    {{ return(outbound_events.var_is_on('outbound_events__keep_pii')) }}
{%- endmacro %}

{#- E-mail addresses, also percent-encoded (`ann%40example.com`, in URLs). -#}
{% macro email_pattern() -%}
    {{ return('[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+([.][A-Za-z0-9-]+)+') }}
{%- endmacro %}

{#- Phone numbers after a non-alphanumeric boundary (group 1): international
    (`+49 (0)30 1234567`), national with a trunk 0 (`0171 1234567`, `030/1234567`,
    `(030) 1234567`) and North American (`(555) 123-4567`, `555.123.4567`). Plain digit
    strings (ids, epochs, prices) do not match. -#}
{% macro phone_pattern() -%}
    {{ return('(^|[^0-9A-Za-z+])([+][0-9]{1,3}([ ./-]?[(]?[0-9]+[)]?){0,5}[ ./-]?[0-9]{4,}|[(]?0[0-9]{1,5}[)]?[ /-][0-9]{3,}([ -]?[0-9]{2,}){0,3}|[(]?[0-9]{3}[)]?[ .-][0-9]{3}[ .-][0-9]{4})') }}
{%- endmacro %}

{#- Either of them (one pass of the regular expression engine). -#}
{% macro personal_data_pattern() -%}
    {{ return('(' ~ outbound_events.email_pattern() ~ ')|' ~ outbound_events.phone_pattern()) }}
{%- endmacro %}

{% macro pii_hash(expr) -%}
    {{ outbound_events.sha256_hex(dbt.concat([
        outbound_events.sql_string(env_var('OUTBOUND_EVENTS_PII_SALT', '')), 'lower(trim(' ~ expr ~ '))'
    ])) }}
{%- endmacro %}

{#- A personal identifier: always hashed. -#}
{% macro pii_identifier(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        case when {{ expr }} is not null then {{ outbound_events.pii_hash(expr) }} end
    {%- endif -%}
{%- endmacro %}

{#- An id (user, campaign, ...): hashed only when it holds an e-mail or a phone. -#}
{% macro pii_id(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        case
            when {{ outbound_events.regexp_contains(expr, outbound_events.personal_data_pattern()) }}
                then {{ outbound_events.pii_hash(expr) }}
            else {{ expr }}
        end
    {%- endif -%}
{%- endmacro %}

{#- Free text or JSON text: e-mails and phones replaced by `<email>` / `<phone>`. Most
    values hold neither: one pass of the combined pattern spares them the two
    replacements. -#}
{% macro pii_free_text(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        case
            when {{ outbound_events.regexp_contains(expr, outbound_events.personal_data_pattern()) }}
                then {{ outbound_events.regexp_replace_all(
                    outbound_events.regexp_replace_all(expr, outbound_events.email_pattern(), '<email>'),
                    outbound_events.phone_pattern(), '\\1<phone>'
                ) }}
            else {{ expr }}
        end
    {%- endif -%}
{%- endmacro %}

{#- A URL: its path kept, personal query values (`email=`, `phone=`, ...) removed. -#}
{% macro pii_url(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        {{ outbound_events.regexp_replace_all(
            outbound_events.pii_free_text(expr),
            '([?&;](e-?mail|mail|email_address|phone|phone_number|mobile|tel|msisdn|sms)=)[^&#;]*', '\\1<redacted>'
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- Rows (relation_name, column_name, found) for each value of the relation's text
    columns (or of `columns`) holding an e-mail or a phone number; none with keep_pii.
    recent_rows_only: only rows whose loaded_at is within var
    outbound_events__test_window_hours of the latest (unless var
    outbound_events__test_all_rows). -#}
{% macro personal_data_hits(relation, columns=none, recent_rows_only=false) -%}
    {%- set recent = outbound_events.recent_rows_condition(relation) if recent_rows_only else 'true' -%}
    {%- set names = columns or [] -%}
    {%- for column in (adapter.get_columns_in_relation(relation) if execute and not columns else []) -%}
        {%- do names.append(column.name) if column.is_string() -%}
    {%- endfor -%}
    {%- for name in names if not outbound_events.keeps_pii() %}
    select '{{ relation.identifier }}' as relation_name, '{{ name }}' as column_name, {{ name }} as found
    from {{ relation }}
    where
        {{ recent }}
        and {{ outbound_events.regexp_contains(name, outbound_events.personal_data_pattern()) }}
    {{ 'union all' if not loop.last }}
    {%- else %}
    select 'none' as relation_name, 'none' as column_name, 'none' as found where 1 = 0
    {%- endfor %}
{%- endmacro %}

{#- A column treated as `treatment` ('id', 'free_text', 'url', 'identifier'). With
    `guard` (a boolean column from may_hold_personal_data), values of rows the guard
    clears are kept without looking at them again. -#}
{% macro pii_treated(expr, treatment, guard=none) -%}
    {%- if treatment == 'id' -%}{%- set treated = outbound_events.pii_id(expr) -%}
    {%- elif treatment == 'free_text' -%}{%- set treated = outbound_events.pii_free_text(expr) -%}
    {%- elif treatment == 'url' -%}{%- set treated = outbound_events.pii_url(expr) -%}
    {%- elif treatment == 'identifier' -%}{%- set treated = outbound_events.pii_identifier(expr) -%}
    {%- else -%}{{ exceptions.raise_compiler_error('unknown personal-data treatment: ' ~ treatment) }}
    {%- endif -%}
    {%- if guard and not outbound_events.keeps_pii() -%}
        case when {{ guard }} then {{ treated }} else {{ expr }} end
    {%- else -%}
        {{ treated }}
    {%- endif -%}
{%- endmacro %}

{#- SQL: whether any of the columns may hold an e-mail address or a phone number: one
    match over their values joined by `|`, which no pattern crosses (no match spans
    two values) and which bounds a value like its start does. -#}
{% macro may_hold_personal_data(columns) -%}
    {%- if outbound_events.keeps_pii() or not columns -%}
        false
    {%- else -%}
        coalesce({{ outbound_events.regexp_contains(
            outbound_events.concat_ws_nonnull("'|'", columns), outbound_events.personal_data_pattern()
        ) }}, false)
    {%- endif -%}
{%- endmacro %}
