{#- Every provider's staged events in one relation (identical columns, see
    macros/staging_helpers.sql: staging_event_columns). -#}
with

{% for provider in outbound_events.providers() %}
{{ provider }}_events as (
    select * from {{ ref('stg_' ~ provider ~ '__events') }}
),

{% endfor %}
unioned as (
    {%- for provider in outbound_events.providers() %}
    select * from {{ provider }}_events
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unioned
