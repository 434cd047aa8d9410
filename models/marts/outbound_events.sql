{#- The fact table: one row per distinct engagement event of every provider, personal
    data hashed or masked (built in int_events_deduplicated). A view: the rows are
    stored once, in the incremental intermediate table. -#}
{{ config(materialized='view') }}
with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

final as (
    select * from events
)

select * from final
