{#- Purchases whose currency has no row in seed currency_rates (or that name no
    currency): their revenue cannot be reported and is left out of
    attributed_revenue, never converted at 1. Provider data: a warning, not a failure;
    add the rate to seeds/semantics/currency_rates.csv. -#}
{{ config(severity='warn') }}

with

purchases as (
    select
        event_id,
        currency
    from {{ ref('outbound_events') }}
    where event_type = 'purchase'
),

currency_rates as (
    select upper(trim(currency)) as currency
    from {{ ref('currency_rates') }}
),

final as (
    select
        purchases.event_id,
        purchases.currency
    from purchases
    left join currency_rates
        on purchases.currency = currency_rates.currency
    where currency_rates.currency is null
)

select * from final
