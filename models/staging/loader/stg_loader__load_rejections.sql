{#- Files, or file tails, the loader could not read: in the shape of rejected events. -#}
with

source as (
    select * from {{ outbound_events.raw_source('loader', 'load_rejections') }}
),

final as (
    select
        provider,
        rejection_reason,
        source_file,
        source_position,
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        load_id,
        loaded_at,
        cast(null as {{ dbt.type_string() }}) as provider_event_name,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as raw_timestamp,
        coalesce(raw_text, '') as raw_text
    from source
)

select * from final
