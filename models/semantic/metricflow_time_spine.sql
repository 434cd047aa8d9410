{#- The time spine MetricFlow requires (dbt docs "MetricFlow time spine"): one row per
    UTC day from var outbound_events__min_valid_timestamp (no earlier event is kept)
    to 2050-12-31. -#}
{{ config(materialized='table') }}

with

days as (
    {{ dbt.date_spine(
        'day',
        dbt.cast(dbt.string_literal(var('outbound_events__min_valid_timestamp')[:10]), 'date'),
        dbt.cast("'2051-01-01'", 'date'),
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
