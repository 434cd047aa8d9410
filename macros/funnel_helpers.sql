{#- Helpers of the engagement funnels. -#}

{#- numerator / denominator as a fraction, null when the denominator is 0. -#}
{% macro ratio(numerator, denominator) -%}
    case
        when {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ outbound_events.type_double() }}) / {{ denominator }}
    end
{%- endmacro %}


{#- A select of (goal_name, channel, window_hours): for every conversion goal of var
    outbound_events__conversion_goals, and for purchases (goal name
    purchase_goal_name()) while var outbound_events__purchases_are_conversion_goals is
    on, its attribution window in hours per channel (the goal's own `window_hours` if
    it has one, else the channel's default from var
    outbound_events__default_attribution_window_hours, whose `other` applies to every
    channel it does not name). Names are trimmed and lower-cased. Gives no rows when
    no goal is configured. -#}
{% macro attribution_windows() -%}
    {%- set defaults = var('outbound_events__default_attribution_window_hours') -%}
    {%- set goals = outbound_events.conversion_goals() -%}
    {%- if outbound_events.purchases_are_goals() == 'true' -%}
        {%- do goals.append({'name': outbound_events.purchase_goal_name(),
                             'window_hours': var('outbound_events__purchase_window_hours', none)}) -%}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for goal in goals -%}
        {%- for channel, default_hours in defaults.items() -%}
            {%- set hours = default_hours if goal.window_hours is none else goal.window_hours -%}
            {%- do rows.append("select " ~ outbound_events.sql_string(goal.name) ~ " as goal_name, "
                ~ outbound_events.sql_string(channel) ~ " as channel, "
                ~ (hours | float) ~ " as window_hours") -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows -%}
        {{ rows | join('\n    union all\n    ') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as goal_name,
            cast(null as {{ dbt.type_string() }}) as channel,
            cast(null as {{ outbound_events.type_double() }}) as window_hours
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#- The channel whose attribution window applies to a touch on `channel_expr`: the
    channel itself where var outbound_events__default_attribution_window_hours names
    it, else `other`. -#}
{% macro attribution_window_channel(channel_expr) -%}
    {%- set named = [] -%}
    {%- for channel in var('outbound_events__default_attribution_window_hours') -%}
        {%- do named.append(outbound_events.sql_string(channel)) -%}
    {%- endfor -%}
    case when {{ channel_expr }} in ({{ named | join(', ') }}) then {{ channel_expr }} else 'other' end
{%- endmacro %}

{#- The goal name purchases are attributed under (no custom event name looks like it). -#}
{% macro purchase_goal_name() -%}
    {{ return('(purchase)') }}
{%- endmacro %}


{#- The rates of the funnel (docs/definitions.md#rates): name, numerator and denominator conditions on
    message_lifecycle rows. A rate's numerator counts only messages that are also in
    its denominator (e.g. open_rate = reached messages that were opened / reached
    messages), which is the definition (docs/definitions.md#rates) when no event is missing and stays
    within [0, 1] when one is. delivery_rate counts only messages on channels whose
    provider reports deliveries: it is null, not 0, for e.g. Braze push, which reports
    none. The semantic layer's ratio metrics (models/semantic) restate these. -#}
{% macro funnel_rates() -%}
    {{ return([
        ('delivery_rate', 'is_sent and is_delivered and is_delivery_reported', 'is_sent and is_delivery_reported'),
        ('open_rate', 'is_reached and is_opened', 'is_reached'),
        ('click_rate', 'is_reached and is_clicked', 'is_reached'),
        ('click_to_open_rate', 'is_opened and is_clicked', 'is_opened'),
        ('bounce_rate', 'is_sent and is_bounced', 'is_sent'),
        ('unsubscribe_rate', 'is_reached and is_unsubscribed', 'is_reached'),
        ('spam_rate', 'is_reached and is_spam_reported', 'is_reached'),
        ('conversion_rate', 'is_reached and is_converted', 'is_reached'),
    ]) }}
{%- endmacro %}


{#- Counts and rates of the funnel over the message_lifecycle rows of a group
    (docs/definitions.md#funnel; rates in funnel_rates()). Rates are fractions in [0, 1], null when
    their denominator is 0. Each rate's numerator is a column too
    (`<rate>_numerator`, and delivery_rate's denominator
    `delivery_rate_denominator`; the other denominators are `reached`, `opened` and
    `sent`), so a roll-up of rows over days or campaigns divides summed columns and
    gets the rate of the whole. -#}
{% macro funnel_counts_and_rates() -%}
        count(*) as messages,
        {{ outbound_events.count_if('is_sent') }} as sent,
        {{ outbound_events.count_if('is_delivered') }} as delivered,
        {{ outbound_events.count_if('is_reached') }} as reached,
        {{ outbound_events.count_if('is_opened') }} as opened,
        {{ outbound_events.count_if('is_clicked') }} as clicked,
        {{ outbound_events.count_if('is_converted') }} as converted,
        {{ outbound_events.count_if('is_bounced') }} as bounced,
        {{ outbound_events.count_if("bounce_type = 'hard'") }} as hard_bounced,
        {{ outbound_events.count_if("bounce_type = 'soft'") }} as soft_bounced,
        {{ outbound_events.count_if('is_unsubscribed') }} as unsubscribed,
        {{ outbound_events.count_if('is_spam_reported') }} as spam_reported,
        cast(sum(open_count) as {{ dbt.type_bigint() }}) as total_opens,
        cast(sum(click_count) as {{ dbt.type_bigint() }}) as total_clicks,
        {{ outbound_events.count_if('is_aborted') }} as aborted,
        {{ outbound_events.count_if('is_machine_opened') }} as machine_opened,
        cast(sum(machine_open_count) as {{ dbt.type_bigint() }}) as machine_opens,
        cast(sum(suspected_bot_click_count) as {{ dbt.type_bigint() }}) as suspected_bot_clicks,
        cast(sum(attributed_purchases) as {{ dbt.type_bigint() }}) as attributed_purchases,
        cast(sum(attributed_revenue) as {{ outbound_events.type_double() }}) as attributed_revenue,
        {%- for rate, numerator, denominator in outbound_events.funnel_rates() %}
        {{ outbound_events.count_if(numerator) }} as {{ rate }}_numerator,
        {%- endfor %}
        {{ outbound_events.count_if(outbound_events.funnel_rates()[0][2]) }} as delivery_rate_denominator,
        {%- for rate, numerator, denominator in outbound_events.funnel_rates() %}
        {{ outbound_events.ratio(outbound_events.count_if(numerator), outbound_events.count_if(denominator)) }}
            as {{ rate }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#- Number of rows of the group for which the condition holds (0 for none). -#}
{% macro count_if(condition) -%}
    cast(coalesce(sum(case when {{ condition }} then 1 else 0 end), 0) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- True for a row (of `relation`) inside the part of the daily funnel an incremental
    run recomputes (int_funnel_days_to_recompute). -#}
{% macro in_funnel_days_to_recompute(relation) -%}
    exists (
        select 1 from {{ ref('int_funnel_days_to_recompute') }} as recomputed
        where
            recomputed.provider = {{ relation }}.provider
            and recomputed.channel_key = coalesce({{ relation }}.channel, '')
            and {{ relation }}.message_date >= recomputed.from_date
    )
{%- endmacro %}
