{#- Every raw record (or unnested event) that could not become an event, with where
    it came from, why, and its raw text (cut to a safe size, personal data masked). -#}
with

rejected as (
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is not null
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'provider', "'|'", 'load_id', "'|'", 'source_file', "'|'",
            dbt.cast('source_position', dbt.type_string()), "'|'",
            dbt.cast('event_position', dbt.type_string())
        ])) }} as rejected_event_id,
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
            outbound_events.truncate_text('event_json', var('outbound_events__rejected_raw_text_max_chars') | int)
        ) }} as raw_text
    from rejected
)

select * from final
