{#- One row per UTC day (of the message's first send, else its first event) ×
    provider × channel × campaign (or Canvas): funnel counts and rates.
    Incremental: a run deletes and recomputes the days of int_funnel_days_to_recompute
    (for each provider × channel of the messages it recomputes, the days from the
    earliest of those messages' days on). -#}
{{ config(outbound_events.follows_loads(
    'append',
    deletes='outbound_events.in_funnel_days_to_recompute(this)',
)) }}

{#- The work list (read in the pre-hook and below through in_funnel_days_to_recompute). #}
{%- set days_to_recompute = ref('int_funnel_days_to_recompute') %}

with

messages as (
    select * from {{ ref('message_lifecycle') }}
    {%- if is_incremental() %}
    where {{ outbound_events.in_funnel_days_to_recompute(ref('message_lifecycle')) }}
    {%- endif %}
),

grouped as (
    select
        message_date,
        provider,
        channel,
        case
            when canvas_id is not null then 'canvas'
            when campaign_id is not null then 'campaign'
        end as campaign_type,
        coalesce(canvas_id, campaign_id) as campaign_or_canvas_id,
        max(coalesce(canvas_name, campaign_name)) as campaign_or_canvas_name,
        {{ outbound_events.funnel_counts_and_rates() }}
    from messages
    group by
        message_date,
        provider,
        channel,
        case
            when canvas_id is not null then 'canvas'
            when campaign_id is not null then 'campaign'
        end,
        coalesce(canvas_id, campaign_id)
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            dbt.cast('message_date', dbt.type_string()), "'|'", 'provider', "'|'",
            "coalesce(channel, '')", "'|'", "coalesce(campaign_type, '')", "'|'",
            "coalesce(campaign_or_canvas_id, '')"
        ])) }} as funnel_day_key,
        *
    from grouped
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
