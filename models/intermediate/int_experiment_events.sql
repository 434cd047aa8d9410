{#- The events experiments are made of (docs/experiments.md), one row per event and the
    experiment it belongs to, each named by provider × experiment_type × experiment_id:
    - assignments (intent to treat: the first one of a user assigns them): a campaign's
      Send or Abort of a variation (seed event_types is_send / is_abort; a Canvas's
      messages excluded) and its EnrollInControl (`control_enrollment`: the control
      variation); a Canvas's Entry (`canvas_entry`: `canvas_variation_id`,
      `in_control_group`); a Canvas experiment step's SplitEntry (`experiment_entry`:
      `experiment_split_id`, `in_control_group`, from `properties`);
    - sends of a campaign or a Canvas (whether an assigned user was sent anything);
    - primary conversions (seed event_types is_conversion, `conversion_behavior_index` 0
      or none): an experiment step's (it names `experiment_step_id`), else a Canvas's,
      else a campaign's.
    Names are each event's own (the marts take the latest: Braze renames lag); no
    window here, so that a reader filtering by load or experiment reads only its rows.
    A treatment assignment without a variant id assigns nobody (no variant to count it
    in; Braze always sends one). -#}

with

events as (
    select
        events.event_id,
        events.provider,
        events.event_type,
        events.user_id,
        events.occurred_at,
        events.load_id,
        events.campaign_id,
        events.campaign_name,
        events.message_variation_id,
        events.canvas_id,
        events.canvas_name,
        events.canvas_variation_id,
        events.canvas_variation_name,
        events.canvas_step_name,
        events.conversion_behavior_index,
        events.is_in_control_group,
        events.properties,
        coalesce(event_types.is_send, false) as is_send,
        coalesce(event_types.is_abort, false) as is_abort,
        coalesce(event_types.is_conversion, false) as is_conversion
    from {{ ref('int_events_deduplicated') }} as events
    left join {{ ref('event_types') }} as event_types
        on events.event_type = event_types.event_type
    where
        events.user_id is not null
        and events.occurred_at is not null
),

candidate_events as (
    select
        *,
        case
            when event_type = 'experiment_entry' or is_conversion
                then {{ outbound_events.json_text('properties', '$.experiment_step_id') }}
        end as experiment_step_id,
        case
            when event_type = 'experiment_entry'
                then {{ outbound_events.json_text('properties', '$.experiment_split_id') }}
        end as experiment_split_id,
        case
            when event_type = 'experiment_entry'
                then {{ outbound_events.json_text('properties', '$.experiment_split_name') }}
        end as experiment_split_name,
        case
            when (is_send or is_abort or event_type = 'control_enrollment') and canvas_id is null
                then {{ outbound_events.json_text('properties', '$.message_variation_name') }}
        end as message_variation_name
    from events
    where
        is_send
        or is_abort
        or is_conversion
        or event_type in ('control_enrollment', 'canvas_entry', 'experiment_entry')
),

campaign_events as (
    select
        event_id,
        provider,
        'campaign' as experiment_type,
        campaign_id as experiment_id,
        campaign_name as experiment_name,
        message_variation_id as variant_id,
        message_variation_name as variant_name,
        event_type = 'control_enrollment' as is_control,
        user_id,
        occurred_at,
        event_type,
        load_id,
        event_type = 'control_enrollment' or message_variation_id is not null as is_assignment,
        is_send,
        false as is_conversion
    from candidate_events
    where
        campaign_id is not null
        and canvas_id is null
        and (is_send or is_abort or event_type = 'control_enrollment')
),

canvas_entries as (
    select
        event_id,
        provider,
        'canvas' as experiment_type,
        canvas_id as experiment_id,
        canvas_name as experiment_name,
        canvas_variation_id as variant_id,
        canvas_variation_name as variant_name,
        coalesce(is_in_control_group, false) as is_control,
        user_id,
        occurred_at,
        event_type,
        load_id,
        coalesce(is_in_control_group, false) or canvas_variation_id is not null as is_assignment,
        false as is_send,
        false as is_conversion
    from candidate_events
    where event_type = 'canvas_entry' and canvas_id is not null
),

canvas_sends as (
    select
        event_id,
        provider,
        'canvas' as experiment_type,
        canvas_id as experiment_id,
        canvas_name as experiment_name,
        canvas_variation_id as variant_id,
        canvas_variation_name as variant_name,
        false as is_control,
        user_id,
        occurred_at,
        event_type,
        load_id,
        false as is_assignment,
        true as is_send,
        false as is_conversion
    from candidate_events
    where is_send and canvas_id is not null
),

split_entries as (
    select
        event_id,
        provider,
        'canvas_experiment_step' as experiment_type,
        experiment_step_id as experiment_id,
        coalesce(canvas_step_name, canvas_name) as experiment_name,
        experiment_split_id as variant_id,
        experiment_split_name as variant_name,
        coalesce(is_in_control_group, false) as is_control,
        user_id,
        occurred_at,
        event_type,
        load_id,
        coalesce(is_in_control_group, false) or experiment_split_id is not null as is_assignment,
        false as is_send,
        false as is_conversion
    from candidate_events
    where event_type = 'experiment_entry' and experiment_step_id is not null
),

primary_conversions as (
    select
        event_id,
        provider,
        case
            when experiment_step_id is not null then 'canvas_experiment_step'
            when canvas_id is not null then 'canvas'
            else 'campaign'
        end as experiment_type,
        coalesce(experiment_step_id, canvas_id, campaign_id) as experiment_id,
        case
            when experiment_step_id is not null then coalesce(canvas_step_name, canvas_name)
            when canvas_id is not null then canvas_name
            else campaign_name
        end as experiment_name,
        cast(null as {{ dbt.type_string() }}) as variant_id,
        cast(null as {{ dbt.type_string() }}) as variant_name,
        false as is_control,
        user_id,
        occurred_at,
        event_type,
        load_id,
        false as is_assignment,
        false as is_send,
        true as is_conversion
    from candidate_events
    where
        is_conversion
        and coalesce(conversion_behavior_index, 0) = 0
        and coalesce(experiment_step_id, canvas_id, campaign_id) is not null
),

final as (
    select * from campaign_events
    union all
    select * from canvas_entries
    union all
    select * from canvas_sends
    union all
    select * from split_entries
    union all
    select * from primary_conversions
)

select * from final
