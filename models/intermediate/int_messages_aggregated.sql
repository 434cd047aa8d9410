{#- One row per message (message_key): who, which campaign or Canvas, and the first
    time of every stage, from the message's events. -#}
{%- set message_attributes = [
    'external_user_id', 'campaign_id', 'campaign_name', 'message_variation_id', 'canvas_id',
    'canvas_name', 'canvas_variation_id', 'canvas_step_id', 'canvas_step_name', 'dispatch_id',
    'send_id', 'message_id',
] -%}

with

message_events as (
    select * from {{ ref('outbound_events') }}
    where message_key is not null
),

aggregated as (
    select
        message_key,
        provider,
        channel,
        user_id,
        {%- for attribute in message_attributes %}
            max({{ attribute }}) as {{ attribute }},
        {%- endfor %}
        min(occurred_at) as first_event_at,
        min(case when event_type = 'send' then occurred_at end) as first_sent_at,
        min(case when event_type = 'delivery' then occurred_at end) as first_delivered_at,
        min(case when event_type in ('open', 'impression') then occurred_at end) as first_opened_at,
        min(case when event_type = 'click' then occurred_at end) as first_clicked_at,
        min(case when event_type = 'bounce' then occurred_at end) as bounced_at,
        max(case when event_type = 'bounce' and bounce_type = 'hard' then 1 else 0 end) = 1 as has_hard_bounce,
        max(case when event_type = 'bounce' and bounce_type = 'soft' then 1 else 0 end) = 1 as has_soft_bounce,
        max(case when event_type = 'bounce' and bounce_type = 'unknown' then 1 else 0 end) = 1 as has_unknown_bounce,
        min(case when event_type in ('rejection', 'delivery_failure') then occurred_at end) as failed_at,
        min(case when event_type = 'unsubscribe' then occurred_at end) as unsubscribed_at,
        min(case when event_type = 'spam_report' then occurred_at end) as spam_reported_at,
        {{ outbound_events.count_if("event_type in ('open', 'impression')") }} as open_count,
        {{ outbound_events.count_if("event_type = 'click'") }} as click_count,
        count(*) as event_count
    from message_events
    group by message_key, provider, channel, user_id
)

select * from aggregated
