{#- One row per provider × experiment × user assigned to it (intent to treat:
    docs/experiments.md). An experiment is a Braze campaign, Canvas or Canvas
    experiment step with a control group or at least two variants; the user's first
    assignment event (int_experiment_events) decides their variant, later ones naming
    another variant flag the row (has_conflicting_assignment). The conversion is the
    experiment's first primary conversion at or after the assignment and within var
    outbound_events__experiment_window_hours; revenue the user's purchases in that
    window, in the reporting currency (var outbound_events__reporting_currency, seed
    currency_rates; a currency without a rate adds nothing).
    Incremental: a run deletes and rebuilds the experiments of
    int_experiments_to_recompute, from all their events. -#}
{{ config(outbound_events.follows_loads(
    'append',
    deletes='outbound_events.in_experiments_to_recompute(this)',
)) }}

{%- set window_hours = outbound_events.experiment_window_hours() %}

{#- the work list, ref()ed where every parse sees it: the filter below renders on
    incremental runs only -#}
{%- do ref('int_experiments_to_recompute') %}

with

experiment_events as (
    select experiment_events.*
    from {{ ref('int_experiment_events') }} as experiment_events
    {%- if is_incremental() %}
    where {{ outbound_events.in_experiments_to_recompute('experiment_events') }}
    {%- endif %}
),

{# Names: the latest non-null one of the experiment's (variant's) events (Braze's
    renames lag), the same on every row (latest_names; experiment_lift names variants
    by it too). #}
experiment_names as (
    {{ outbound_events.latest_names(
        'experiment_events', ['provider', 'experiment_type', 'experiment_id'], 'experiment_name'
    ) }}
),

variant_names as (
    {{ outbound_events.latest_names(
        'experiment_events',
        ['provider', 'experiment_type', 'experiment_id', 'variant_id'],
        'variant_name',
    ) }}
),

assignment_events as (
    select * from experiment_events
    where is_assignment
),

{# An experiment compares something: a control group, or two variants at least. #}
experiments as (
    select
        provider,
        experiment_type,
        experiment_id
    from assignment_events
    group by provider, experiment_type, experiment_id
    having
        max(case when is_control then 1 else 0 end) = 1
        or count(distinct case when not is_control then variant_id end) >= 2
),

ranked_assignments as (
    select
        assignment_events.*,
        row_number() over (
            partition by
                assignment_events.provider,
                assignment_events.experiment_type,
                assignment_events.experiment_id,
                assignment_events.user_id
            order by assignment_events.occurred_at asc, assignment_events.event_id asc
        ) as assignment_rank
    from assignment_events
    inner join experiments
        on
            assignment_events.provider = experiments.provider
            and assignment_events.experiment_type = experiments.experiment_type
            and assignment_events.experiment_id = experiments.experiment_id
),

{# A user whose assignment events name more than one variant (control and a variant,
    or two variants): the first is kept, the row flagged. #}
user_variants as (
    select
        provider,
        experiment_type,
        experiment_id,
        user_id,
        count(distinct coalesce(variant_id, '')) > 1
        or max(case when is_control then 1 else 0 end) != min(case when is_control then 1 else 0 end)
            as has_conflicting_assignment
    from ranked_assignments
    group by provider, experiment_type, experiment_id, user_id
),

first_assignments as (
    select
        ranked_assignments.provider,
        ranked_assignments.experiment_type,
        ranked_assignments.experiment_id,
        experiment_names.experiment_name,
        ranked_assignments.variant_id,
        variant_names.variant_name,
        ranked_assignments.is_control,
        ranked_assignments.user_id,
        ranked_assignments.occurred_at as assigned_at,
        ranked_assignments.event_type as assignment_event_type,
        user_variants.has_conflicting_assignment
    from ranked_assignments
    inner join user_variants
        on
            ranked_assignments.provider = user_variants.provider
            and ranked_assignments.experiment_type = user_variants.experiment_type
            and ranked_assignments.experiment_id = user_variants.experiment_id
            and ranked_assignments.user_id = user_variants.user_id
    left join experiment_names
        on
            ranked_assignments.provider = experiment_names.provider
            and ranked_assignments.experiment_type = experiment_names.experiment_type
            and ranked_assignments.experiment_id = experiment_names.experiment_id
    left join variant_names
        on
            ranked_assignments.provider = variant_names.provider
            and ranked_assignments.experiment_type = variant_names.experiment_type
            and ranked_assignments.experiment_id = variant_names.experiment_id
            and ranked_assignments.variant_id = variant_names.variant_id
    where ranked_assignments.assignment_rank = 1
),

{# Sent: any send of the campaign or Canvas to the user (whatever its variant: a
    control user with a send shows a leak); unknown for an experiment step, whose
    sends do not name their split. #}
sent_users as (
    select distinct
        provider,
        experiment_type,
        experiment_id,
        user_id
    from experiment_events
    where is_send
),

conversions as (
    select
        first_assignments.provider,
        first_assignments.experiment_type,
        first_assignments.experiment_id,
        first_assignments.user_id,
        min(experiment_events.occurred_at) as converted_at
    from first_assignments
    inner join experiment_events
        on
            first_assignments.provider = experiment_events.provider
            and first_assignments.experiment_type = experiment_events.experiment_type
            and first_assignments.experiment_id = experiment_events.experiment_id
            and first_assignments.user_id = experiment_events.user_id
    where
        experiment_events.is_conversion
        and experiment_events.occurred_at >= first_assignments.assigned_at
        and {{ dbt.datediff('first_assignments.assigned_at', 'experiment_events.occurred_at', 'second') }}
        <= {{ window_hours }} * 3600
    group by
        first_assignments.provider,
        first_assignments.experiment_type,
        first_assignments.experiment_id,
        first_assignments.user_id
),

currency_rates as (
    select
        upper(trim(currency)) as currency,
        usd_per_unit
    from {{ ref('currency_rates') }}
),

reporting_rate as (
    select usd_per_unit
    from currency_rates
    where currency = {{ outbound_events.sql_string(var('outbound_events__reporting_currency', 'USD') | trim | upper) }}
),

purchases as (
    select
        events.provider,
        events.user_id,
        events.occurred_at,
        events.revenue * currency_rates.usd_per_unit / reporting_rate.usd_per_unit as revenue
    from {{ ref('int_events_deduplicated') }} as events
    left join currency_rates
        on events.currency = currency_rates.currency
    left join reporting_rate
        on 1 = 1
    where
        events.event_type = 'purchase'
        and events.user_id in (select first_assignments.user_id from first_assignments)
),

revenue as (
    select
        first_assignments.provider,
        first_assignments.experiment_type,
        first_assignments.experiment_id,
        first_assignments.user_id,
        sum(purchases.revenue) as revenue
    from first_assignments
    inner join purchases
        on
            first_assignments.provider = purchases.provider
            and first_assignments.user_id = purchases.user_id
    where
        purchases.occurred_at >= first_assignments.assigned_at
        and {{ dbt.datediff('first_assignments.assigned_at', 'purchases.occurred_at', 'second') }}
        <= {{ window_hours }} * 3600
    group by
        first_assignments.provider,
        first_assignments.experiment_type,
        first_assignments.experiment_id,
        first_assignments.user_id
),

final as (
    select
        first_assignments.provider,
        first_assignments.experiment_type,
        first_assignments.experiment_id,
        first_assignments.experiment_name,
        first_assignments.variant_id,
        first_assignments.variant_name,
        first_assignments.is_control,
        first_assignments.user_id,
        first_assignments.assigned_at,
        first_assignments.assignment_event_type,
        case
            when first_assignments.experiment_type = 'canvas_experiment_step' then null
            else sent_users.user_id is not null
        end as is_sent,
        first_assignments.has_conflicting_assignment,
        conversions.converted_at,
        conversions.converted_at is not null as is_converted,
        cast(coalesce(revenue.revenue, 0) as {{ outbound_events.type_double() }}) as revenue
    from first_assignments
    left join sent_users
        on
            first_assignments.provider = sent_users.provider
            and first_assignments.experiment_type = sent_users.experiment_type
            and first_assignments.experiment_id = sent_users.experiment_id
            and first_assignments.user_id = sent_users.user_id
    left join conversions
        on
            first_assignments.provider = conversions.provider
            and first_assignments.experiment_type = conversions.experiment_type
            and first_assignments.experiment_id = conversions.experiment_id
            and first_assignments.user_id = conversions.user_id
    left join revenue
        on
            first_assignments.provider = revenue.provider
            and first_assignments.experiment_type = revenue.experiment_type
            and first_assignments.experiment_id = revenue.experiment_id
            and first_assignments.user_id = revenue.user_id
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
