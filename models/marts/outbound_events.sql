{#- The fact table: one row per distinct engagement event of every provider. -#}
with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

final as (
    select
        event_id,
        provider,
        provider_event_id,
        provider_event_name,
        event_type,
        channel,
        provider_channel,
        occurred_at,
        timestamp_source,
        user_timezone,
        loaded_at,
        user_id,
        external_user_id,
        message_key,
        campaign_id,
        campaign_name,
        message_variation_id,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name,
        dispatch_id,
        send_id,
        message_id,
        message_type,
        message_subject,
        url,
        link_id,
        list_id,
        list_name,
        bounce_type,
        {{ outbound_events.pii_free_text('bounce_reason') }} as bounce_reason,
        error_code,
        {{ outbound_events.pii_free_text('error_message') }} as error_message,
        platform,
        device_id,
        app_id,
        subscription_group_id,
        subscription_status,
        conversion_behavior_index,
        is_in_control_group,
        is_conversion_goal,
        {{ outbound_events.pii_identifier('email_address') }} as email_address,
        {{ outbound_events.pii_identifier('phone_number') }} as phone_number,
        {{ outbound_events.pii_identifier('sender_phone_number') }} as sender_phone_number,
        {{ outbound_events.pii_identifier('ip_address') }} as ip_address,
        {{ outbound_events.pii_identifier('ad_id') }} as ad_id,
        {{ outbound_events.pii_free_text('message_body') }} as message_body,
        properties,
        copies_received,
        source_file,
        source_position,
        event_position,
        load_id
    from events
)

select * from final
