{#- The funnel over all time per provider × channel (the run command's summary). -#}
with

messages as (
    select * from {{ ref('message_lifecycle') }}
),

final as (
    select
        provider,
        channel,
        {{ outbound_events.funnel_counts_and_rates() }}
    from messages
    group by provider, channel
)

select * from final
