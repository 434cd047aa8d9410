{#- Which funnel stages each provider reports on each channel, read from the events:
    the `reached` stage of a message is its delivery where the provider reports
    deliveries on that channel, else its send where it reports sends, else any event. -#}
with

events as (
    select * from {{ ref('outbound_events') }}
    where message_key is not null
),

profiled as (
    select
        provider,
        channel,
        max(case when event_type = 'send' then 1 else 0 end) = 1 as reports_sends,
        max(case when event_type = 'delivery' then 1 else 0 end) = 1 as reports_deliveries
    from events
    group by provider, channel
)

select * from profiled
