{#- Staging logic for providers whose raw record is one JSON object per event
    (Outbound, Customer.io): the fields named in `fields` become columns, every other
    field lands in `properties` (a nested `properties` object lifted to the top). -#}
{% macro json_provider_events(provider, source_relation, fields) -%}

with

raw_records as (
    {{ outbound_events.checked_raw_records(source_relation) }}
),

fields_extracted as (
    select
        '{{ provider }}' as provider,
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
        {{ outbound_events.event_time_columns(provider, 'raw_timestamp') }}
    from fields_extracted
),

final as (
    select
        {{ outbound_events.select_staging_event_columns(
            'times_parsed',
            ['provider', 'properties', 'event_json', 'source_file', 'source_position',
             'event_position', 'load_id', 'loaded_at', 'parse_error', 'occurred_at',
             'timestamp_source'] + fields | map(attribute=0) | list
        ) }}
    from times_parsed
)

select * from final
{%- endmacro %}
