{#- Outbound track events: customer actions with any name (`renewMembership`) and
    nested custom properties, kept in `properties` (addressable as
    `$.membership.renewalDate`). Without a timestamp an event takes its load time. -#}
{%- set fields = [
    ('provider_event_name', ['$.event']),
    ('custom_event_name', ['$.event']),
    ('user_id', ['$.user_id', '$.userId']),
    ('raw_timestamp', ['$.timestamp']),
] -%}

with

source as (
    select * from {{ outbound_events.raw_source('outbound', 'events') }}
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
        'outbound' as provider,
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
