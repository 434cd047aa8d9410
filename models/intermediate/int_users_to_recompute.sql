{#- Work list: the ids (user and external user ids) whose messages, conversions and
    user rows a run recomputes: those of the events landed in the loads that not every
    model reading this list has processed yet, widened to every id of their messages (a
    conversion matches a message by either id, so a late touch can move it between
    messages of the same person). Rebuilt on every run; empty on --full-refresh. -#}
{{ config(materialized='table') }}

with

pending_loads as (
    {{ outbound_events.loads_pending_for(outbound_events.users_consumers()) }}
),

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

new_ids as (
    select user_id as match_id from events
    where
        load_id in (select pending_loads.load_id from pending_loads)
        and {{ outbound_events.work_lists_needed() }}
    union
    select external_user_id as match_id from events
    where
        load_id in (select pending_loads.load_id from pending_loads)
        and external_user_id is not null
        and {{ outbound_events.work_lists_needed() }}
),

messages_of_new_ids as (
    select distinct message_key from events
    where
        message_key is not null
        and {{ outbound_events.is_one_of_users('select new_ids.match_id from new_ids') }}
),

final as (
    select user_id as match_id from events
    where message_key in (select messages_of_new_ids.message_key from messages_of_new_ids)
    union
    select external_user_id as match_id from events
    where
        message_key in (select messages_of_new_ids.message_key from messages_of_new_ids)
        and external_user_id is not null
    union
    select match_id from new_ids
)

select * from final
