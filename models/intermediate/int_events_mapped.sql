{#- Good events with their canonical `event_type`, `channel`, `bounce_type` and
    `exit_reason` (seed `event_type_mapping`, free-text channels through
    `channel_mapping`), the funnel role of their type (seed `event_types`), the message
    they belong to (`message_key`) and whether they are a conversion goal (a custom
    event named in var outbound_events__conversion_goals, a purchase while var
    outbound_events__purchases_are_conversion_goals is on, a provider conversion). -#}
{%- set goal_names = [] -%}
{%- for name in outbound_events.conversion_goal_names() + ['~no goal~'] -%}
    {%- do goal_names.append(outbound_events.sql_string(name)) -%}
{%- endfor %}

with

validated_events as (
    select * from {{ ref('int_events_validated') }}
    where rejection_reason is null
),

event_type_mapping as (
    select
        event_type,
        lower(trim(provider)) as provider,
        lower(trim(provider_event_name)) as event_name_key,
        nullif(trim(channel), '') as channel,
        nullif(trim(bounce_type), '') as bounce_type,
        nullif(trim(exit_reason), '') as exit_reason
    from {{ ref('event_type_mapping') }}
),

channel_mapping as (
    select
        channel,
        lower(trim(provider_channel)) as channel_key
    from {{ ref('channel_mapping') }}
),

event_types as (
    select * from {{ ref('event_types') }}
),

mapped as (
    select
        validated_events.*,
        coalesce(exact_mapping.event_type, default_mapping.event_type, 'unmapped') as event_type,
        coalesce(
            exact_mapping.channel,
            default_mapping.channel,
            channel_mapping.channel,
            case when validated_events.provider_channel is not null then 'other' end
        ) as channel,
        coalesce(exact_mapping.bounce_type, default_mapping.bounce_type) as bounce_type,
        coalesce(exact_mapping.exit_reason, validated_events.provider_exit_reason) as exit_reason
    from validated_events
    left join event_type_mapping as exact_mapping
        on
            validated_events.provider = exact_mapping.provider
            and lower(trim(validated_events.provider_event_name)) = exact_mapping.event_name_key
    left join event_type_mapping as default_mapping
        on
            validated_events.provider = default_mapping.provider
            and default_mapping.event_name_key = '*'
    left join channel_mapping
        on lower(trim(validated_events.provider_channel)) = channel_mapping.channel_key
),

{# The provider's identifier of the message (docs/definitions.md#message-key): Braze dispatch_id with the
    campaign variation or Canvas step, else send_id; the provider's message id
    (CrossEngage / ActivatePro message_id, Customer.io email_id, Braze card id); else
    the campaign (or Canvas step) and variation. #}
identified as (
    select
        mapped.*,
        event_types.is_message_event,
        event_types.is_conversion,
        coalesce(
            {{ dbt.concat([
                "'dispatch:'", 'dispatch_id', "':'", "coalesce(message_variation_id, canvas_step_id, '')"
            ]) }},
            {{ dbt.concat(["'send:'", 'send_id']) }},
            {{ dbt.concat(["'message:'", 'message_id']) }},
            {{ dbt.concat([
                "'campaign:'", 'coalesce(canvas_step_id, campaign_id, canvas_id)', "':'",
                "coalesce(canvas_variation_id, message_variation_id, '')"
            ]) }}
        ) as message_identifier
    from mapped
    left join event_types
        on mapped.event_type = event_types.event_type
),

messages_keyed as (
    select
        *,
        case
            when is_message_event and message_identifier is not null
                then {{ dbt.concat([
                    'provider', "'|'", 'user_id', "'|'", "coalesce(channel, '')", "'|'", 'message_identifier'
                ]) }}
        end as message_key_parts
    from identified
),

final as (
    select
        *,
        {{ dbt.hash('message_key_parts') }} as message_key,
        coalesce(
            is_conversion
            or (event_type = 'custom' and lower(trim(custom_event_name)) in ({{ goal_names | join(', ') }}))
            or (event_type = 'purchase' and {{ outbound_events.purchases_are_goals() }}),
            false
        ) as is_conversion_goal
    from messages_keyed
)

select * from final
