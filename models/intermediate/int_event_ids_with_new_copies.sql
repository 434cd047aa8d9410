{#- Work list: the ids of the events with a copy in a load that int_events_deduplicated,
    rejected_events or load_ledger has not processed yet. Those events are
    deduplicated anew from all their copies (a late copy can be the one kept, or
    conflict with it). Rebuilt on every run; empty on --full-refresh. -#}
{{ config(materialized='table') }}

with

pending_loads as (
    {{ outbound_events.loads_pending_for(outbound_events.copies_consumers()) }}
),

final as (
    select distinct event_id
    from {{ ref('int_events_validated') }}
    where
        event_id is not null
        and load_id in (select pending_loads.load_id from pending_loads)
        and {{ outbound_events.work_lists_needed() }}
)

select * from final
