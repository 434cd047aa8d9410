{#- One row per message sent to one user (message_key): the first time of every
    stage, stage flags, open and click counts, time to open and to click. Whether a
    message was reached follows the rule its provider × channel states in seed
    `provider_channels` (`reached_by`): its delivery, its send, or (channels that
    report neither, e.g. Braze in-app messages) an impression, open or click, never an
    abort alone. A provider × channel without a seed row is reached by its send.
    Incremental (delete+insert on message_key): a run recomputes the messages of
    int_messages_to_recompute (every message of the users whose events landed, by every
    id they are known by), which is all a new event or a moved conversion can change. -#}
{{ config(outbound_events.follows_loads('delete+insert', unique_key='message_key')) }}

{%- set messages_to_recompute = 'select message_key from ' ~ ref('int_messages_to_recompute') %}
{%- set affected_messages = messages_to_recompute if is_incremental() else none %}

with

messages as (
    select * from {{ ref('int_messages_aggregated') }}
    {%- if affected_messages %}
    where message_key in ({{ affected_messages }})
    {%- endif %}
),

provider_channels as (
    select * from {{ ref('provider_channels') }}
),

conversions as (
    select
        message_key,
        min(converted_at) as converted_at,
        count(*) as conversion_count,
        {{ outbound_events.count_if('is_purchase') }} as attributed_purchases,
        coalesce(sum(conversion_revenue), 0) as attributed_revenue
    from {{ ref('int_conversions_attributed') }}
    {%- if affected_messages %}
    where message_key in ({{ affected_messages }})
    {%- endif %}
    group by message_key
),

joined as (
    select
        messages.*,
        provider_channels.reports_sends,
        provider_channels.reports_deliveries,
        provider_channels.reached_by,
        conversions.converted_at,
        coalesce(conversions.conversion_count, 0) as conversion_count,
        coalesce(conversions.attributed_purchases, 0) as attributed_purchases,
        coalesce(conversions.attributed_revenue, 0) as attributed_revenue
    from messages
    left join provider_channels
        on
            messages.provider = provider_channels.provider
            and messages.channel = provider_channels.channel
    left join conversions
        on messages.message_key = conversions.message_key
),

final as (
    select
        message_key,
        provider,
        channel,
        user_id,
        external_user_id,
        campaign_id,
        campaign_name,
        message_variation_id,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_step_id,
        canvas_step_name,
        dispatch_id,
        send_id,
        message_id,
        first_event_at,
        first_sent_at,
        first_delivered_at,
        first_opened_at,
        first_clicked_at,
        first_machine_opened_at,
        converted_at,
        aborted_at,
        bounced_at,
        case
            when has_hard_bounce then 'hard'
            when has_soft_bounce then 'soft'
            when has_unknown_bounce then 'unknown'
        end as bounce_type,
        failed_at,
        unsubscribed_at,
        spam_reported_at,
        open_count,
        machine_open_count,
        click_count,
        suspected_bot_click_count,
        conversion_count,
        attributed_purchases,
        attributed_revenue,
        event_count,
        {{ dbt.datediff('first_sent_at', 'first_opened_at', 'second') }}
            as seconds_to_open,
        {{ dbt.datediff('first_sent_at', 'first_clicked_at', 'second') }}
            as seconds_to_click,
        coalesce(
            first_delivered_at < first_sent_at or first_opened_at < first_sent_at
            or first_clicked_at < first_sent_at or bounced_at < first_sent_at,
            false
        ) as has_clock_skew,
        message_date,
        first_sent_at is not null as is_sent,
        first_delivered_at is not null as is_delivered,
        coalesce(reports_deliveries, false) as is_delivery_reported,
        case coalesce(reached_by, 'send')
            when 'delivery' then first_delivered_at is not null
            when 'engagement' then first_opened_at is not null or first_clicked_at is not null
            else first_sent_at is not null
        end as is_reached,
        first_opened_at is not null or first_clicked_at is not null as is_opened,
        first_opened_at is null and first_clicked_at is not null as is_open_inferred,
        coalesce(
            machine_open_count > 0 and machine_open_count = open_count and suspected_bot_click_count = click_count,
            false
        ) as is_machine_opened,
        first_clicked_at is not null as is_clicked,
        aborted_at is not null as is_aborted,
        converted_at is not null as is_converted,
        bounced_at is not null as is_bounced,
        failed_at is not null as is_failed,
        unsubscribed_at is not null as is_unsubscribed,
        spam_reported_at is not null as is_spam_reported
    from joined
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
