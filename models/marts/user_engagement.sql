{#- One row per provider × user: messages received and engaged with, last
    engagement, latest subscription state, hard bounces (suppression candidates).
    Incremental (delete+insert on provider and user): a run recomputes the users in
    int_users_to_recompute. -#}
{{ config(outbound_events.follows_loads('delete+insert', unique_key=['provider', 'user_id'])) }}

{%- set users_to_recompute = 'select match_id from ' ~ ref('int_users_to_recompute') %}
{%- set affected_ids = users_to_recompute if is_incremental() else none %}

with

events as (
    select
        events.*,
        coalesce(event_types.is_engagement, false) as is_engagement,
        coalesce(event_types.is_bounce, false) as is_bounce,
        {{ outbound_events.is_machine_engagement('events') }} as is_machine_engagement
    from {{ ref('int_events_deduplicated') }} as events
    left join {{ ref('event_types') }} as event_types
        on events.event_type = event_types.event_type
    {%- if affected_ids %}
    where events.user_id in ({{ affected_ids }})
    {%- endif %}
),

messages as (
    select * from {{ ref('message_lifecycle') }}
    {%- if affected_ids %}
    where user_id in ({{ affected_ids }})
    {%- endif %}
),

users as (
    select
        provider,
        user_id,
        max(external_user_id) as external_user_id,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        max(case when is_engagement and not is_machine_engagement then occurred_at end) as last_engaged_at,
        max(case when is_bounce and bounce_type = 'hard' then occurred_at end) as last_hard_bounced_at
    from events
    group by provider, user_id
),

user_messages as (
    select
        provider,
        user_id,
        count(*) as messages,
        min(first_event_at) as first_message_at,
        max(first_event_at) as last_message_at,
        {{ outbound_events.count_if('is_reached') }} as messages_received,
        {{ outbound_events.count_if('is_opened') }} as messages_opened,
        {{ outbound_events.count_if('is_clicked') }} as messages_clicked,
        {{ outbound_events.count_if('is_converted') }} as messages_converted
    from messages
    group by provider, user_id
),

subscription_events as (
    select
        provider,
        user_id,
        occurred_at,
        channel,
        case
            when event_type = 'unsubscribe' then 'unsubscribed'
            else lower(trim(subscription_status))
        end as subscription_status,
        row_number() over (
            partition by provider, user_id
            order by occurred_at desc, event_id desc
        ) as recency_rank
    from events
    where
        event_type = 'unsubscribe'
        or (event_type in ('subscription_change', 'global_subscription_change') and subscription_status is not null)
),

latest_subscription as (
    select
        provider,
        user_id,
        subscription_status,
        channel as subscription_channel,
        occurred_at as subscription_changed_at
    from subscription_events
    where recency_rank = 1
),

final as (
    select
        users.provider,
        users.user_id,
        users.external_user_id,
        users.first_event_at,
        users.last_event_at,
        user_messages.first_message_at,
        user_messages.last_message_at,
        coalesce(user_messages.messages, 0) as messages,
        coalesce(user_messages.messages_received, 0) as messages_received,
        coalesce(user_messages.messages_opened, 0) as messages_opened,
        coalesce(user_messages.messages_clicked, 0) as messages_clicked,
        coalesce(user_messages.messages_converted, 0) as messages_converted,
        users.last_engaged_at,
        latest_subscription.subscription_status,
        latest_subscription.subscription_channel,
        latest_subscription.subscription_changed_at,
        users.last_hard_bounced_at,
        users.last_hard_bounced_at is not null as is_hard_bounced
    from users
    left join user_messages
        on
            users.provider = user_messages.provider
            and users.user_id = user_messages.user_id
    left join latest_subscription
        on
            users.provider = latest_subscription.provider
            and users.user_id = latest_subscription.user_id
)

select * from final
