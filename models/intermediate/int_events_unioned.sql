{#- Every provider's staged events in one relation (identical columns, see
    macros/staging_helpers.sql: staging_event_columns). -#}
{%- set staged = [] -%}
{%- for provider in outbound_events.providers() -%}
    {%- do staged.append('select * from ' ~ ref('stg_' ~ provider ~ '__events')) -%}
{%- endfor -%}

with

unioned as (
    {{ staged | join('\n    union all\n    ') }}
)

select * from unioned
