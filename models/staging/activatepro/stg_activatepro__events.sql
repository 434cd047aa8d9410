{#- ActivatePro outbound events (API bodies already unnested to one row per event).
    Properties are read under `properties` or at the top level (Data Feed records are
    flat), in the documented camelCase first, snake_case as seen in the wild. Without a
    timestamp an event takes its load time (ActivatePro's documented rule). -#}
{%- set fields = [
    ('provider_event_name', ['$.event']),
    ('raw_timestamp', ['$.timestamp']),
    ('provider_channel', ['$.properties.channel', '$.channel']),
    ('message_type', ['$.properties.type', '$.type']),
    ('url', ['$.properties.url', '$.url']),
    ('campaign_id', ['$.properties.campaignId', '$.campaignId', '$.properties.campaign_id', '$.campaign_id']),
    ('message_id', ['$.properties.messageId', '$.messageId', '$.properties.message_id', '$.message_id']),
    ('record_user_id', [
        '$.properties.userId', '$.userId', '$.properties.User_id', '$.User_id',
        '$.properties.user_id', '$.user_id', '$.properties.id', '$.id',
    ]),
] -%}

with

events as (
    select * from {{ ref('base_crossengage__events_unnested') }}
    where provider = 'activatepro'
),

renamed as (
    select
        provider,
        {{ outbound_events.json_field_columns('json_event', fields) }},
        {{ outbound_events.unmapped_properties('json_event', fields) }} as properties,
        body_user_id,
        event_json,
        content_sha256,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        parse_error
    from events
),

final as (
    select
        provider,
        coalesce(body_user_id, record_user_id) as user_id,
        provider_event_name,
        provider_channel,
        message_type,
        url,
        campaign_id,
        message_id,
        raw_timestamp,
        case
            when raw_timestamp is null then loaded_at
            else {{ outbound_events.parse_event_timestamp('raw_timestamp') }}
        end as occurred_at,
        case when raw_timestamp is null then 'ingestion' else 'event' end as timestamp_source,
        properties,
        event_json,
        content_sha256,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        parse_error
    from renamed
)

select * from final
