{#- Work list of engagement_funnel_daily: per provider and channel of the messages in
    int_messages_to_recompute, the earliest of their days (message_date, as this run
    rebuilt them): the daily funnel is recomputed from that day on (a late send can
    move a message to an earlier day; a campaign id can appear late). Rebuilt on every
    run. -#}
{{ config(materialized='table') }}

with

messages_to_recompute as (
    select message_key from {{ ref('int_messages_to_recompute') }}
),

final as (
    select
        provider,
        coalesce(channel, '') as channel_key,
        min(message_date) as from_date
    from {{ ref('int_messages_aggregated') }}
    where message_key in (select messages_to_recompute.message_key from messages_to_recompute)
    group by provider, coalesce(channel, '')
)

select * from final
