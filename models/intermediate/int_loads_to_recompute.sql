{#- Work list of rejected_events and load_ledger: the loads they have not processed
    yet and every older load holding a copy of an event with a copy in one of those
    (its duplicates and conflicts are counted anew: when loads land out of `loaded_at`
    order, the copy kept can move to the new load). Rebuilt on every run; empty on
    --full-refresh. -#}
{{ config(materialized='table') }}

with

pending_loads as (
    {{ outbound_events.loads_pending_for(outbound_events.copies_consumers()) }}
),

loads_with_copies as (
    select distinct copies.load_id
    from {{ ref('int_events_validated') }} as copies
    inner join {{ ref('int_event_ids_with_new_copies') }} as new_copies
        on copies.event_id = new_copies.event_id
),

final as (
    select load_id from pending_loads
    where {{ outbound_events.work_lists_needed() }}
    union
    select load_id from loads_with_copies
)

select * from final
