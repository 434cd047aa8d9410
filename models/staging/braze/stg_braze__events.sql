{#- Braze Currents events: one row per raw Avro record. The event type comes from the
    export path (`event_type=`) or the Avro record name; the record's flat fields are
    renamed below, and every field no column takes stays in `properties`. -#}
{%- set fields = [
    ('provider_event_id', ['$.id']),
    ('user_id', ['$.user_id']),
    ('external_user_id', ['$.external_user_id']),
    ('raw_timestamp', ['$.time']),
    ('user_timezone', ['$.timezone']),
    ('provider_channel', ['$.channel']),
    ('campaign_id', ['$.campaign_id']),
    ('campaign_name', ['$.campaign_name']),
    ('message_variation_id', ['$.message_variation_id']),
    ('canvas_id', ['$.canvas_id']),
    ('canvas_name', ['$.canvas_name']),
    ('canvas_variation_id', ['$.canvas_variation_id']),
    ('canvas_variation_name', ['$.canvas_variation_name']),
    ('canvas_step_id', ['$.canvas_step_id']),
    ('canvas_step_name', ['$.canvas_step_name']),
    ('dispatch_id', ['$.dispatch_id']),
    ('send_id', ['$.send_id']),
    ('message_id', ['$.content_card_id', '$.card_id']),
    ('url', ['$.url']),
    ('link_id', ['$.button_id']),
    ('bounce_reason', ['$.bounce_reason']),
    ('error_code', ['$.bounce_code', '$.provider_error_code', '$.http_status_code']),
    ('error_message', ['$.error', '$.provider_error_title']),
    ('platform', ['$.platform']),
    ('device_id', ['$.device_id']),
    ('app_id', ['$.app_id']),
    ('subscription_group_id', ['$.subscription_group_id']),
    ('subscription_status', ['$.subscription_status']),
    ('conversion_behavior_index', ['$.conversion_behavior_index'], dbt.type_bigint()),
    ('is_in_control_group', ['$.in_control_group'], dbt.type_boolean()),
    ('email_address', ['$.email_address']),
    ('phone_number', ['$.to_phone_number', '$.user_phone_number', '$.phone_number']),
    ('sender_phone_number', ['$.from_phone_number', '$.inbound_phone_number']),
    ('ad_id', ['$.ad_id']),
    ('message_body', ['$.message_body']),
    ('abort_type', ['$.abort_type']),
    ('abort_log', ['$.abort_log']),
    ('provider_exit_reason', ['$.exit_reason']),
    ('is_machine_open', ['$.machine_open'], dbt.type_boolean()),
    ('is_suspected_bot_click', ['$.is_suspected_bot_click'], dbt.type_boolean()),
    ('suspected_bot_click_reason', ['$.suspected_bot_click_reason']),
    ('custom_event_name', ['$.name']),
    ('product_id', ['$.product_id']),
    ('price', ['$.price'], outbound_events.type_double()),
    ('currency', ['$.currency']),
    ('quantity', ['$.quantity'], dbt.type_bigint()),
] -%}

with

source as (
    select * from {{ outbound_events.raw_source('braze', 'events') }}
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
        'braze' as provider,
        nullif(trim(event_type), '') as provider_event_name,
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
        {{ outbound_events.parse_event_timestamp('raw_timestamp') }} as occurred_at,
        case when raw_timestamp is not null then 'event' end as timestamp_source
    from renamed
)

select * from final
