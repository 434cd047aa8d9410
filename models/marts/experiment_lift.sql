{#- One row per provider × experiment × treatment variant, compared with the
    experiment's control group, plus one row per experiment (variant_id null) for all
    its treatment variants pooled (docs/experiments.md). Variants are those any
    assignment event names, so a variant whose users were all assigned elsewhere first
    has a row with 0 users. Rates p = converters / users; absolute_lift = p_t - p_c;
    relative_lift = absolute_lift / p_c; a 95 % Wald interval for the absolute lift;
    the pooled two-proportion z-test and Braze's confidence erf(|z| / sqrt 2) (macro
    erf). Null, never an error, where a group is empty or a variance is zero.
    Incremental: a run deletes and rebuilds the experiments of
    int_experiments_to_recompute, from experiment_assignments as this run left it. -#}
{{ config(outbound_events.follows_loads(
    'append',
    deletes='outbound_events.in_experiments_to_recompute(this)',
)) }}

{%- set double = outbound_events.type_double() %}

{#- the work list, ref()ed where every parse sees it: the filter below renders on
    incremental runs only -#}
{%- do ref('int_experiments_to_recompute') %}

with

assignments as (
    select assignments.*
    from {{ ref('experiment_assignments') }} as assignments
    {%- if is_incremental() %}
    where {{ outbound_events.in_experiments_to_recompute('assignments') }}
    {%- endif %}
),

experiment_events as (
    select experiment_events.*
    from {{ ref('int_experiment_events') }} as experiment_events
    {%- if is_incremental() %}
    where {{ outbound_events.in_experiments_to_recompute('experiment_events') }}
    {%- endif %}
),

treatment_assignment_events as (
    select * from experiment_events
    where is_assignment and not is_control and variant_id is not null
),

{# A variant's name as experiment_assignments gives it: the latest non-null one of the
    variant's events (so a variant without users is named too). #}
variant_names as (
    {{ outbound_events.latest_names(
        'experiment_events',
        ['provider', 'experiment_type', 'experiment_id', 'variant_id'],
        'variant_name',
    ) }}
),

experiments as (
    select
        provider,
        experiment_type,
        experiment_id,
        max(experiment_name) as experiment_name
    from assignments
    group by provider, experiment_type, experiment_id
),

{# Every treatment variant of the experiments that have rows (experiment_assignments
    keeps only what compares something), with or without users. #}
variant_ids as (
    select distinct
        experiments.provider,
        experiments.experiment_type,
        experiments.experiment_id,
        experiments.experiment_name,
        treatment_assignment_events.variant_id
    from experiments
    inner join treatment_assignment_events
        on
            experiments.provider = treatment_assignment_events.provider
            and experiments.experiment_type = treatment_assignment_events.experiment_type
            and experiments.experiment_id = treatment_assignment_events.experiment_id
),

variants as (
    select
        variant_ids.*,
        variant_names.variant_name
    from variant_ids
    left join variant_names
        on
            variant_ids.provider = variant_names.provider
            and variant_ids.experiment_type = variant_names.experiment_type
            and variant_ids.experiment_id = variant_names.experiment_id
            and variant_ids.variant_id = variant_names.variant_id
),

treatment_by_variant as (
    select
        provider,
        experiment_type,
        experiment_id,
        variant_id,
        count(*) as assigned_users,
        {{ outbound_events.count_if('is_converted') }} as converters,
        sum(revenue) as revenue
    from assignments
    where not is_control
    group by provider, experiment_type, experiment_id, variant_id
),

treatment_pooled as (
    select
        provider,
        experiment_type,
        experiment_id,
        count(*) as assigned_users,
        {{ outbound_events.count_if('is_converted') }} as converters,
        sum(revenue) as revenue
    from assignments
    where not is_control
    group by provider, experiment_type, experiment_id
),

control as (
    select
        provider,
        experiment_type,
        experiment_id,
        count(*) as assigned_users,
        {{ outbound_events.count_if('is_converted') }} as converters,
        sum(revenue) as revenue
    from assignments
    where is_control
    group by provider, experiment_type, experiment_id
),

treatment_groups as (
    select
        variants.provider,
        variants.experiment_type,
        variants.experiment_id,
        variants.experiment_name,
        variants.variant_id,
        variants.variant_name,
        coalesce(treatment_by_variant.assigned_users, 0) as assigned_users,
        coalesce(treatment_by_variant.converters, 0) as converters,
        coalesce(treatment_by_variant.revenue, 0) as revenue
    from variants
    left join treatment_by_variant
        on
            variants.provider = treatment_by_variant.provider
            and variants.experiment_type = treatment_by_variant.experiment_type
            and variants.experiment_id = treatment_by_variant.experiment_id
            and variants.variant_id = treatment_by_variant.variant_id
    union all
    select
        experiments.provider,
        experiments.experiment_type,
        experiments.experiment_id,
        experiments.experiment_name,
        cast(null as {{ dbt.type_string() }}) as variant_id,
        cast(null as {{ dbt.type_string() }}) as variant_name,
        coalesce(treatment_pooled.assigned_users, 0) as assigned_users,
        coalesce(treatment_pooled.converters, 0) as converters,
        coalesce(treatment_pooled.revenue, 0) as revenue
    from experiments
    left join treatment_pooled
        on
            experiments.provider = treatment_pooled.provider
            and experiments.experiment_type = treatment_pooled.experiment_type
            and experiments.experiment_id = treatment_pooled.experiment_id
),

compared as (
    select
        treatment_groups.provider,
        treatment_groups.experiment_type,
        treatment_groups.experiment_id,
        treatment_groups.experiment_name,
        treatment_groups.variant_id,
        treatment_groups.variant_name,
        cast(treatment_groups.assigned_users as {{ dbt.type_bigint() }}) as treatment_users,
        cast(coalesce(control.assigned_users, 0) as {{ dbt.type_bigint() }}) as control_users,
        cast(treatment_groups.converters as {{ dbt.type_bigint() }}) as treatment_converters,
        cast(coalesce(control.converters, 0) as {{ dbt.type_bigint() }}) as control_converters,
        {{ outbound_events.ratio('treatment_groups.converters', 'treatment_groups.assigned_users') }}
            as treatment_conversion_rate,
        {{ outbound_events.ratio('coalesce(control.converters, 0)', 'coalesce(control.assigned_users, 0)') }}
            as control_conversion_rate,
        {{ outbound_events.ratio('treatment_groups.revenue', 'treatment_groups.assigned_users') }}
            as treatment_revenue_per_user,
        {{ outbound_events.ratio('coalesce(control.revenue, 0)', 'coalesce(control.assigned_users, 0)') }}
            as control_revenue_per_user
    from treatment_groups
    left join control
        on
            treatment_groups.provider = control.provider
            and treatment_groups.experiment_type = control.experiment_type
            and treatment_groups.experiment_id = control.experiment_id
),

{# The variances: the unpooled one of the difference (the interval), and the pooled one
    under "no difference" (the z-test); both null when a group is empty. #}
variances as (
    select
        *,
        treatment_conversion_rate - control_conversion_rate as absolute_lift,
        case
            when treatment_users > 0 and control_users > 0
                then (
                    treatment_conversion_rate * (1 - treatment_conversion_rate) / treatment_users
                    + control_conversion_rate * (1 - control_conversion_rate) / control_users
                )
        end as difference_variance,
        {{ outbound_events.ratio(
            '(treatment_converters + control_converters)', '(treatment_users + control_users)') }} as pooled_rate
    from compared
),

tested as (
    select
        *,
        case
            when difference_variance > 0 then sqrt(difference_variance)
        end as standard_error,
        case
            when treatment_users > 0 and control_users > 0 and pooled_rate > 0 and pooled_rate < 1
                then (treatment_conversion_rate - control_conversion_rate) / sqrt(
                    pooled_rate * (1 - pooled_rate)
                    * (cast(1 as {{ double }}) / treatment_users + cast(1 as {{ double }}) / control_users)
                )
        end as z_score
    from variances
),

with_confidence as (
    select
        *,
        abs(z_score) / sqrt(2) as z_over_root_two
    from tested
),

final as (
    select
        provider,
        experiment_type,
        experiment_id,
        experiment_name,
        variant_id,
        variant_name,
        treatment_users,
        control_users,
        treatment_converters,
        control_converters,
        treatment_conversion_rate,
        control_conversion_rate,
        absolute_lift,
        case when control_conversion_rate > 0 then absolute_lift / control_conversion_rate end as relative_lift,
        absolute_lift - 1.959964 * standard_error as lift_ci_low,
        absolute_lift + 1.959964 * standard_error as lift_ci_high,
        z_score,
        {{ outbound_events.erf('z_over_root_two') }} as confidence,
        treatment_revenue_per_user,
        control_revenue_per_user
    from with_confidence
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
