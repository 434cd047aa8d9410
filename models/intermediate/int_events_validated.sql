{#- Every staged event with the reason it cannot become an event, if any
    (`rejection_reason`, null for good events). The first failing check wins. -#}
{%- set min_valid_timestamp = outbound_events.sql_string(var('outbound_events__min_valid_timestamp')) -%}
{%- set latest_valid_timestamp = dbt.dateadd(
    'hour', var('outbound_events__future_tolerance_hours') | int, 'loaded_at'
) -%}

with

unioned as (
    select * from {{ ref('int_events_unioned') }}
),

validated as (
    select
        *,
        case
            when parse_error is not null then parse_error
            when provider_event_name is null then 'missing_event_name'
            when user_id is null then 'missing_user_id'
            when raw_timestamp is null and occurred_at is null then 'missing_timestamp'
            when occurred_at is null and {{ outbound_events.is_numeric_text('raw_timestamp') }}
                then 'timestamp_out_of_range'
            when occurred_at is null then 'invalid_timestamp'
            when occurred_at < cast({{ min_valid_timestamp }} as {{ dbt.type_timestamp() }})
                then 'timestamp_out_of_range'
            when occurred_at > {{ latest_valid_timestamp }} then 'timestamp_out_of_range'
        end as rejection_reason
    from unioned
)

select * from validated
