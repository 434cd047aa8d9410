{#- The reporting currency (var outbound_events__reporting_currency) must have a row in
    seed currency_rates, or no revenue could be reported: a configuration error. -#}
{%- set reporting_currency = var('outbound_events__reporting_currency', 'USD') | trim | upper %}

with

reporting_rate as (
    select count(*) as rates
    from {{ ref('currency_rates') }}
    where upper(trim(currency)) = {{ outbound_events.sql_string(reporting_currency) }}
),

final as (
    select {{ outbound_events.sql_string(reporting_currency) }} as reporting_currency
    from reporting_rate
    where rates = 0
)

select * from final
