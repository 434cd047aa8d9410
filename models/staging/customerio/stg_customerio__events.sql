{#- Customer.io email semantic events (`Email Delivered`, `Email Opened`, ...) with
    their `context` and `properties`; fields no column takes stay in `properties`.
    Without a timestamp an event takes its load time. -#}
{%- set fields = [
    ('provider_event_id', ['$.messageId']),
    ('provider_event_name', ['$.event']),
    ('user_id', ['$.user_id', '$.userId']),
    ('raw_timestamp', ['$.timestamp']),
    ('message_id', ['$.properties.email_id']),
    ('message_subject', ['$.properties.email_subject']),
    ('campaign_id', ['$.properties.campaign_id']),
    ('campaign_name', ['$.properties.campaign_name']),
    ('link_id', ['$.properties.link_id']),
    ('url', ['$.properties.link_url']),
    ('list_id', ['$.properties.list_id']),
    ('list_name', ['$.properties.list_name']),
    ('email_address', ['$.context.traits.email']),
    ('ip_address', ['$.context.ip']),
] -%}

with

source as (
    select * from {{ outbound_events.raw_source('customerio', 'events') }}
),

payloads_checked as (
    select
        *,
        {{ outbound_events.json_kind('payload') }} as payload_kind
    from source
),

objects_kept as (
    select
        *,
        case when payload_kind = 'object' then payload end as json_payload
    from payloads_checked
),

renamed as (
    select
        'customerio' as provider,
        {{ outbound_events.json_field_columns('json_payload', fields) }},
        {{ outbound_events.unmapped_properties('json_payload', fields) }} as properties,
        payload as event_json,
        content_sha256,
        source_file,
        source_position,
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        load_id,
        loaded_at,
        {{ outbound_events.payload_parse_error('payload_kind') }} as parse_error
    from objects_kept
),

final as (
    select
        *,
        case
            when raw_timestamp is null then loaded_at
            else {{ outbound_events.parse_event_timestamp('raw_timestamp') }}
        end as occurred_at,
        case when raw_timestamp is null then 'ingestion' else 'event' end as timestamp_source
    from renamed
)

select * from final
