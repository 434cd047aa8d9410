{#- Work list: the message keys of every message of the ids in int_users_to_recompute
    (what int_messages_aggregated and message_lifecycle rebuild). Rebuilt on every run. -#}
{{ config(materialized='table') }}

with

users_to_recompute as (
    select match_id from {{ ref('int_users_to_recompute') }}
),

final as (
    select distinct message_key
    from {{ ref('int_events_deduplicated') }}
    where
        message_key is not null
        and {{ outbound_events.is_one_of_users(
            'select users_to_recompute.match_id from users_to_recompute'
        ) }}
)

select * from final
