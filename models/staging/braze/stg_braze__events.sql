{#- Braze Currents message-engagement events: one raw row per Avro record, the event
    type from the export path (`event_type=`) or the Avro record name, the record's
    fields as flat JSON. -#}
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
    ('error_code', ['$.bounce_code', '$.provider_error_code']),
    ('error_message', ['$.error']),
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
] -%}

with

raw_records as (
    {{ outbound_events.checked_raw_records(source('braze', 'events')) }}
),

fields_extracted as (
    select
        'braze' as provider,
        nullif(trim(event_type), '') as provider_event_name,
        {{ outbound_events.json_field_columns('json_payload', fields) }},
        {{ outbound_events.unmapped_properties('json_payload', outbound_events.field_paths(fields)) }} as properties,
        payload as event_json,
        source_file,
        source_position,
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        load_id,
        loaded_at,
        parse_error
    from raw_records
),

times_parsed as (
    select
        *,
        {{ outbound_events.event_time_columns('braze', 'raw_timestamp') }}
    from fields_extracted
),

final as (
    select
        {{ outbound_events.select_staging_event_columns(
            'times_parsed',
            ['provider', 'provider_event_name', 'properties', 'event_json', 'source_file',
             'source_position', 'event_position', 'load_id', 'loaded_at', 'parse_error',
             'occurred_at', 'timestamp_source'] + fields | map(attribute=0) | list
        ) }}
    from times_parsed
)

select * from final
