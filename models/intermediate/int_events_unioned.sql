{#- Every provider's staged events in one relation: each staging model has the columns
    its provider sends; the union gives every column to every row (null where a
    provider has no such field). -#}
{%- set staging_models = [] -%}
{%- for provider in outbound_events.providers() -%}
    {%- do staging_models.append(ref('stg_' ~ provider ~ '__events')) -%}
{%- endfor -%}

with

unioned as (
    {{ outbound_events.union_relations(staging_models) }}
)

select * from unioned
