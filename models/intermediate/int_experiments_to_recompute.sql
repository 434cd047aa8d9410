{#- Work list of the experiment marts: the experiments (provider × experiment_type ×
    experiment_id) whose assignments and lift a run recomputes: those with an
    assignment, send or primary conversion in the loads that not every model reading
    this list has processed yet, and every experiment a user with a purchase in those
    loads is assigned to (the purchase may fall in their conversion window: revenue).
    Rebuilt on every run; empty on --full-refresh. -#}
{{ config(materialized='table') }}

with

pending_loads as (
    {{ outbound_events.loads_pending_for(outbound_events.experiments_consumers()) }}
),

experiment_events as (
    select
        provider,
        experiment_type,
        experiment_id,
        user_id,
        load_id,
        is_assignment
    from {{ ref('int_experiment_events') }}
),

new_purchasers as (
    select distinct
        provider,
        user_id
    from {{ ref('int_events_deduplicated') }}
    where
        event_type = 'purchase'
        and user_id is not null
        and load_id in (select pending_loads.load_id from pending_loads)
        and {{ outbound_events.work_lists_needed() }}
),

final as (
    select
        provider,
        experiment_type,
        experiment_id
    from experiment_events
    where
        load_id in (select pending_loads.load_id from pending_loads)
        and {{ outbound_events.work_lists_needed() }}
    union
    select
        experiment_events.provider,
        experiment_events.experiment_type,
        experiment_events.experiment_id
    from experiment_events
    inner join new_purchasers
        on
            experiment_events.provider = new_purchasers.provider
            and experiment_events.user_id = new_purchasers.user_id
    where experiment_events.is_assignment
)

select * from final
