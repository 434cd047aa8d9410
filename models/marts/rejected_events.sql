{#- Every raw record (or unnested event) that could not become an event, and every
    file (or file tail) the loader could not read: where it came from, why, and its raw
    text (cut to a safe size, personal data masked). -#}
with

rejected_records as (
    select
        provider,
        rejection_reason,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        provider_event_name,
        user_id,
        raw_timestamp,
        event_json as raw_text
    from {{ ref('int_events_validated') }}
    where rejection_reason is not null
),

rejected_files as (
    select * from {{ ref('stg_loader__load_rejections') }}
),

rejected as (
    select * from rejected_records
    union all
    select * from rejected_files
),

final as (
    select
        {{ outbound_events.record_id() }} as rejected_event_id,
        provider,
        rejection_reason,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        provider_event_name,
        user_id,
        raw_timestamp,
        {{ outbound_events.pii_free_text(
            outbound_events.truncate_text('raw_text', var('outbound_events__rejected_raw_text_max_chars') | int)
        ) }} as raw_text
    from rejected
)

select * from final
