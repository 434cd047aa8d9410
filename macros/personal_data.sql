{#- Personal data in marts. By default (var outbound_events__keep_pii = false):
    identifiers (email address, phone numbers, IP address, advertising id) are
    replaced by the SHA-256 of salt + lower-cased, trimmed value, so they can still be
    joined and counted; free text (bounce reasons, error messages, SMS bodies, raw
    text of rejected records) keeps its words with email addresses and phone numbers
    masked. The salt comes from the environment variable OUTBOUND_EVENTS_PII_SALT.
    Teams allowed to keep personal data set the var to true. -#}

{% macro pii_identifier(expr) -%}
    {%- if var('outbound_events__keep_pii') | string | lower in ['true', '1', 'yes'] -%}
        {{ expr }}
    {%- else -%}
        case
            when {{ expr }} is not null
                then {{ outbound_events.sha256_hex(dbt.concat([
                    outbound_events.sql_string(env_var('OUTBOUND_EVENTS_PII_SALT', '')),
                    'lower(trim(' ~ expr ~ '))'
                ])) }}
        end
    {%- endif -%}
{%- endmacro %}

{#- Patterns of personal data in free text (used to mask it, and by the
    has_no_personal_data test). -#}
{% macro email_pattern() -%}
    {{ return('[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)+') }}
{%- endmacro %}
{% macro phone_pattern() -%}
    {{ return('[+][0-9][0-9 ().-]{5,18}[0-9]') }}
{%- endmacro %}

{% macro pii_free_text(expr) -%}
    {%- if var('outbound_events__keep_pii') | string | lower in ['true', '1', 'yes'] -%}
        {{ expr }}
    {%- else -%}
        {{ outbound_events.regexp_replace_all(
            outbound_events.regexp_replace_all(expr, outbound_events.email_pattern(), '<email>'),
            outbound_events.phone_pattern(), '<phone>'
        ) }}
    {%- endif -%}
{%- endmacro %}
