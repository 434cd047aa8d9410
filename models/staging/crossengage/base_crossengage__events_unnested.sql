{#- CrossEngage and ActivatePro (one platform, the same two raw shapes), one row per
    event: an API body `{"id": <user>, "events": [...]}` gives one row per element of
    `events`, with the body's user id; any other record (a Data Feed record, or
    something malformed) gives itself. Only the lineage and the `events` array are
    carried into the unnest, so memory does not grow with body size × events. -#}
{%- set lineage = ['provider', 'source_file', 'source_position', 'load_id', 'loaded_at', 'content_sha256'] -%}

with

source as (
    select
        'crossengage' as provider,
        *
    from {{ outbound_events.raw_source('crossengage', 'events') }}
    union all
    select
        'activatepro' as provider,
        *
    from {{ outbound_events.raw_source('activatepro', 'events') }}
),

payloads_checked as (
    select
        *,
        {{ outbound_events.json_kind('payload') }} as payload_kind
    from source
),

{# The parser writes numbers back in its own way (1.10 as 1.1): where a body may hold
    such a number, its numbers travel through the unnest as marked strings, and each
    event's text gets them back as they arrived. #}
events_extracted as (
    select
        *,
        case
            when payload_kind != 'object' then null
            when {{ outbound_events.may_hold_inexact_numbers('payload') }}
                then {{ outbound_events.json_text(outbound_events.json_numbers_as_strings('payload'), '$.events') }}
            else {{ outbound_events.json_text('payload', '$.events') }}
        end as events_json
    from payloads_checked
),

{# `events` is an array when its JSON text starts with `[` (the text of a valid
    document's value), which spares parsing a large body once more. #}
records_classified as (
    select
        *,
        case
            when events_json is null then null
            when substring(events_json, 1, 1) = '[' then 'array'
            else 'other'
        end as events_kind
    from events_extracted
),

api_bodies as (
    select
        {{ lineage | join(',\n        ') }},
        events_json,
        {{ outbound_events.json_field_columns('payload', [
            ('body_user_id', ['$.id', '$.userId', '$.User_id', '$.user_id'])
        ]) }}
    from records_classified
    where events_kind = 'array'
),

api_body_elements as (
    {{ outbound_events.json_array_elements('api_bodies', 'events_json', '$', lineage + ['body_user_id']) }}
),

api_events as (
    select
        {{ lineage | join(',\n        ') }},
        element_position as event_position,
        {{ outbound_events.json_numbers_restored('element_json') }} as event_json,
        body_user_id,
        {{ outbound_events.payload_parse_error(outbound_events.json_kind('element_json')) }} as parse_error
    from api_body_elements
),

api_bodies_without_events as (
    select
        {{ lineage | join(',\n        ') }},
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        events_json as event_json,
        body_user_id,
        'no_events' as parse_error
    from api_bodies
    where {{ outbound_events.regexp_full_match('events_json', '\\[\\s*\\]') }}
),

other_records as (
    select
        {{ lineage | join(',\n        ') }},
        cast(1 as {{ dbt.type_bigint() }}) as event_position,
        payload as event_json,
        cast(null as {{ dbt.type_string() }}) as body_user_id,
        case
            when events_kind is not null then 'events_not_an_array'
            else {{ outbound_events.payload_parse_error('payload_kind') }}
        end as parse_error
    from records_classified
    where events_kind is null or events_kind != 'array'
),

unioned as (
    select * from api_events
    union all
    select * from api_bodies_without_events
    union all
    select * from other_records
),

final as (
    select
        *,
        case when parse_error is null then event_json end as json_event
    from unioned
)

select * from final
