{#- Conversions attributed to messages (last touch), one row per (conversion event,
    message):
    - a Braze campaign or Canvas conversion counts for the same user's most recent
      message of that campaign (or Canvas) that started before it;
    - a custom event configured as a conversion goal, and a purchase (var
      outbound_events__purchases_are_conversion_goals), converts the user's most recent
      opened or clicked message before it, inside the attribution window of the
      message's channel; machine opens and suspected bot clicks are no touches (unless
      var outbound_events__count_machine_engagement). The goal event's user id is
      matched against the message's user id and external user id (Outbound's user id
      is your own user id, which Braze calls external_user_id).
    A purchase's revenue is converted to the reporting currency (var
    outbound_events__reporting_currency) with seed currency_rates; it stays null for
    a currency without a rate.
    Incremental (delete+insert on conversion_event_id): a run recomputes the
    conversions of the users in int_users_to_recompute (every id they are known by), which
    is all an attribution can change with. -#}
{{ config(outbound_events.follows_loads('delete+insert', unique_key='conversion_event_id')) }}

{%- set users_to_recompute = 'select match_id from ' ~ ref('int_users_to_recompute') %}
{%- set affected_ids = users_to_recompute if is_incremental() else none %}

with

events as (
    select
        events.*,
        coalesce(event_types.is_conversion, false) as is_provider_conversion,
        coalesce(event_types.is_attribution_touch, false)
        and not {{ outbound_events.is_machine_engagement('events') }} as is_attribution_touch
    from {{ ref('int_events_deduplicated') }} as events
    left join {{ ref('event_types') }} as event_types
        on events.event_type = event_types.event_type
    {%- if affected_ids %}
    where {{ outbound_events.is_one_of_users(affected_ids, 'events') }}
    {%- endif %}
),

messages as (
    select * from {{ ref('int_messages_aggregated') }}
    {%- if affected_ids %}
    where user_id in ({{ affected_ids }})
    {%- endif %}
),

attribution_windows as (
    {{ outbound_events.attribution_windows() }}
),

currency_rates as (
    select
        upper(trim(currency)) as currency,
        usd_per_unit
    from {{ ref('currency_rates') }}
),

reporting_rate as (
    select usd_per_unit
    from currency_rates
    where currency = {{ outbound_events.sql_string(var('outbound_events__reporting_currency', 'USD') | trim | upper) }}
),

braze_conversions as (
    select
        event_id as conversion_event_id,
        provider,
        user_id,
        campaign_id,
        canvas_id,
        occurred_at as converted_at
    from events
    where is_provider_conversion
),

braze_candidates as (
    select
        braze_conversions.conversion_event_id,
        braze_conversions.converted_at,
        messages.message_key,
        row_number() over (
            partition by braze_conversions.conversion_event_id
            order by messages.first_event_at desc, messages.message_key asc
        ) as recency_rank
    from braze_conversions
    inner join messages
        on
            braze_conversions.provider = messages.provider
            and braze_conversions.user_id = messages.user_id
            and (
                braze_conversions.campaign_id = messages.campaign_id
                or braze_conversions.canvas_id = messages.canvas_id
            )
            and braze_conversions.converted_at >= messages.first_event_at
),

goal_events as (
    select
        events.event_id as conversion_event_id,
        events.user_id,
        events.occurred_at as converted_at,
        case
            when events.event_type = 'purchase'
                then {{ outbound_events.sql_string(outbound_events.purchase_goal_name()) }}
            else lower(trim(events.custom_event_name))
        end as goal_name,
        events.event_type = 'purchase' as is_purchase,
        events.revenue * currency_rates.usd_per_unit / reporting_rate.usd_per_unit as conversion_revenue
    from events
    left join currency_rates
        on events.currency = currency_rates.currency
    left join reporting_rate
        on 1 = 1
    where events.event_type in ('custom', 'purchase') and events.is_conversion_goal
),

touches as (
    select
        message_key,
        channel,
        user_id as match_user_id,
        occurred_at as touched_at
    from events
    where is_attribution_touch and message_key is not null
    union all
    select
        message_key,
        channel,
        external_user_id as match_user_id,
        occurred_at as touched_at
    from events
    where
        is_attribution_touch
        and message_key is not null
        and external_user_id is not null
        and external_user_id != user_id
),

goal_candidates as (
    select
        goal_events.conversion_event_id,
        goal_events.converted_at,
        goal_events.is_purchase,
        goal_events.conversion_revenue,
        touches.message_key,
        row_number() over (
            partition by goal_events.conversion_event_id
            order by touches.touched_at desc, touches.message_key asc
        ) as recency_rank
    from goal_events
    inner join touches
        on
            goal_events.user_id = touches.match_user_id
            and goal_events.converted_at >= touches.touched_at
    inner join attribution_windows
        on
            goal_events.goal_name = attribution_windows.goal_name
            and {{ outbound_events.attribution_window_channel('touches.channel') }} = attribution_windows.channel
    where
        {{ dbt.datediff('touches.touched_at', 'goal_events.converted_at', 'second') }}
        <= attribution_windows.window_hours * 3600
),

attributed as (
    select
        conversion_event_id,
        message_key,
        converted_at,
        'provider_conversion' as attribution_source,
        false as is_purchase,
        cast(null as {{ outbound_events.type_double() }}) as conversion_revenue
    from braze_candidates
    where recency_rank = 1
    union all
    select
        conversion_event_id,
        message_key,
        converted_at,
        'conversion_goal' as attribution_source,
        is_purchase,
        conversion_revenue
    from goal_candidates
    where recency_rank = 1
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept('attributed') }}
{%- else -%}
    select * from attributed
{%- endif %}
