{#- Staging logic shared by CrossEngage and ActivatePro (one platform family).
    A raw record is either an API body `{"id": <user>, "events": [{event, timestamp,
    properties}]}` (one row per element of `events`) or a Data Feed record
    `{"id", "event", "timestamp", "channel", ...}` (one row). Property names are
    accepted in both spellings (`campaign_id` / `campaignId`), at the top level or
    under `properties`. -#}

{% macro crossengage_family_fields() -%}
    {%- set fields = [] -%}
    {%- for column, keys in [
        ('provider_event_name', ['event']),
        ('raw_timestamp', ['timestamp']),
        ('provider_channel', ['channel']),
        ('message_type', ['type']),
        ('url', ['url']),
        ('campaign_id', ['campaign_id', 'campaignId']),
        ('message_id', ['message_id', 'messageId']),
        ('record_user_id', ['userId', 'User_id', 'user_id', 'id']),
    ] -%}
        {%- set paths = [] -%}
        {%- for key in keys -%}
            {%- do paths.extend(['$.properties.' ~ key, '$.' ~ key]) -%}
        {%- endfor -%}
        {%- do fields.append((column, paths)) -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}


{% macro crossengage_family_events(provider, source_relation) -%}
{%- set fields = outbound_events.crossengage_family_fields() -%}
{%- set body_user_paths = ['$.id', '$.userId', '$.User_id', '$.user_id'] -%}

with

raw_records as (
    {{ outbound_events.checked_raw_records(source_relation) }}
),

records_classified as (
    select
        *,
        {{ outbound_events.json_kind('json_payload', '$.events') }} as events_kind
    from raw_records
),

api_bodies as (
    select * from records_classified
    where events_kind = 'array'
),

api_body_elements as (
    {{ outbound_events.json_array_elements('api_bodies', 'json_payload', '$.events') }}
),

api_events as (
    select
        source_file,
        source_position,
        load_id,
        loaded_at,
        element_position as event_position,
        element_json as event_json,
        case
            when {{ outbound_events.json_kind('element_json') }} = 'object' then element_json
        end as json_event,
        {{ outbound_events.json_field('json_payload', body_user_paths) }} as body_user_id,
        case
            when {{ outbound_events.json_kind('element_json') }} != 'object' then 'not_a_json_object'
        end as parse_error
    from api_body_elements
),

api_bodies_without_events as (
    select
        api_bodies.source_file,
        api_bodies.source_position,
        api_bodies.load_id,
        api_bodies.loaded_at,
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        api_bodies.payload as event_json,
        cast(null as {{ dbt.type_string() }}) as json_event,
        cast(null as {{ dbt.type_string() }}) as body_user_id,
        'no_events' as parse_error
    from api_bodies
    left join api_body_elements
        on
            api_bodies.source_file = api_body_elements.source_file
            and api_bodies.source_position = api_body_elements.source_position
            and api_bodies.load_id = api_body_elements.load_id
    where api_body_elements.source_file is null
),

other_records as (
    select
        source_file,
        source_position,
        load_id,
        loaded_at,
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        payload as event_json,
        case when events_kind is null then json_payload end as json_event,
        cast(null as {{ dbt.type_string() }}) as body_user_id,
        coalesce(parse_error, case when events_kind is not null then 'events_not_an_array' end) as parse_error
    from records_classified
    where events_kind is null or events_kind != 'array'
),

events_unnested as (
    select * from api_events
    union all
    select * from api_bodies_without_events
    union all
    select * from other_records
),

fields_extracted as (
    select
        '{{ provider }}' as provider,
        {{ outbound_events.json_field_columns('json_event', fields) }},
        {{ outbound_events.unmapped_properties('json_event', outbound_events.field_paths(fields)) }} as properties,
        body_user_id,
        event_json,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        parse_error
    from events_unnested
),

users_resolved as (
    select
        *,
        coalesce(body_user_id, record_user_id) as user_id
    from fields_extracted
),

times_parsed as (
    select
        *,
        {{ outbound_events.event_time_columns(provider, 'raw_timestamp') }}
    from users_resolved
),

final as (
    select
        {{ outbound_events.select_staging_event_columns(
            'times_parsed',
            ['provider', 'properties', 'event_json', 'source_file', 'source_position',
             'event_position', 'load_id', 'loaded_at', 'parse_error', 'occurred_at',
             'timestamp_source', 'user_id'] + fields | map(attribute=0) | list
        ) }}
    from times_parsed
)

select * from final
{%- endmacro %}
