{#- One row per message (message_key): who, which campaign or Canvas, and the first
    time of every funnel stage, the stages read from the `event_types` seed. Opens
    and clicks count as a person's unless the provider marks them as a machine open
    or a suspected bot click (then they are counted apart; var
    outbound_events__count_machine_engagement counts them as everyone's).
    Incremental (delete+insert on message_key): a run re-aggregates the messages of
    int_messages_to_recompute, from their events alone. -#}
{{ config(outbound_events.follows_loads('delete+insert', unique_key='message_key')) }}
{%- set message_attributes = [
    'external_user_id', 'campaign_id', 'campaign_name', 'message_variation_id', 'canvas_id',
    'canvas_name', 'canvas_variation_id', 'canvas_step_id', 'canvas_step_name', 'dispatch_id',
    'send_id', 'message_id',
] -%}

{%- set messages_to_recompute = 'select message_key from ' ~ ref('int_messages_to_recompute') %}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
    where
        message_key is not null
        and {{ 'message_key in (' ~ messages_to_recompute ~ ')' if is_incremental() else 'true' }}
),

event_types as (
    select * from {{ ref('event_types') }}
),

message_events as (
    select
        events.*,
        event_types.is_send,
        event_types.is_delivery,
        event_types.is_open,
        event_types.is_click,
        event_types.is_bounce,
        event_types.is_failure,
        event_types.is_unsubscribe,
        event_types.is_spam_report,
        event_types.is_abort,
        {{ outbound_events.is_machine_engagement('events') }} as is_machine_engagement
    from events
    left join event_types
        on events.event_type = event_types.event_type
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
        min(case when is_send then occurred_at end) as first_sent_at,
        min(case when is_delivery then occurred_at end) as first_delivered_at,
        min(case when is_open and not is_machine_engagement then occurred_at end) as first_opened_at,
        min(case when is_open and is_machine_open then occurred_at end) as first_machine_opened_at,
        min(case when is_click and not is_machine_engagement then occurred_at end) as first_clicked_at,
        min(case when is_abort then occurred_at end) as aborted_at,
        min(case when is_bounce then occurred_at end) as bounced_at,
        {{ outbound_events.count_if("is_bounce and bounce_type = 'hard'") }} > 0 as has_hard_bounce,
        {{ outbound_events.count_if("is_bounce and bounce_type = 'soft'") }} > 0 as has_soft_bounce,
        {{ outbound_events.count_if("is_bounce and bounce_type = 'unknown'") }} > 0 as has_unknown_bounce,
        min(case when is_failure then occurred_at end) as failed_at,
        min(case when is_unsubscribe then occurred_at end) as unsubscribed_at,
        min(case when is_spam_report then occurred_at end) as spam_reported_at,
        {{ outbound_events.count_if('is_open') }} as open_count,
        {{ outbound_events.count_if('is_open and is_machine_open') }} as machine_open_count,
        {{ outbound_events.count_if('is_click') }} as click_count,
        {{ outbound_events.count_if('is_click and is_suspected_bot_click') }} as suspected_bot_click_count,
        count(*) as event_count
    from message_events
    group by message_key, provider, channel, user_id
),

final as (
    select
        *,
        cast(coalesce(first_sent_at, first_event_at) as date) as message_date
    from aggregated
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
