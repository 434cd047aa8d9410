{#- The fact table: one row per distinct engagement event of every provider.
    Copies of one event (same event_id) collapse to the first one landed (earliest
    load, then file and position); copies_received counts them.
    Incremental (delete+insert on event_id): a run rebuilds only the events that have
    a copy among the records landed since the latest one already here (minus the
    lookback window), from all their copies, so late events and late duplicates give
    the same rows as a full refresh. Changing the mapping seeds needs a full refresh. -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

-- depends_on: {{ ref('int_events_validated') }}

with

mapped_events as (
    select * from {{ ref('int_events_mapped') }}
),

candidate_copies as (
    select * from mapped_events
    {%- if is_incremental() %}
    where event_id in (
        select validated.event_id
        from {{ ref('int_events_validated') }} as validated
        where
            validated.event_id is not null
            and validated.loaded_at >= {{ outbound_events.incremental_window_start_literal(this) }}
    )
    {%- endif %}
),

copies_ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by loaded_at asc, load_id asc, source_file asc, source_position asc, event_position asc
        ) as copy_number,
        count(*) over (partition by event_id) as copies_received
    from candidate_copies
),

events as (
    select * from copies_ranked
    where copy_number = 1
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
        load_id,
        record_id
    from events
)

select * from final
