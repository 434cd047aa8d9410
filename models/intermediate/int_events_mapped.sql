{#- Good events with their canonical `event_type`, `channel` and `bounce_type` from
    the mapping seeds, the message they belong to (`message_key`) and whether they are
    a conversion goal. -#}

{#- The provider's own identifier of the message, by the rule in SPEC §6: Braze
    dispatch_id with the campaign variation or Canvas step, else send_id; the
    provider's message id (CrossEngage/ActivatePro message_id, Customer.io email_id,
    Braze content-card / news-feed card id); else campaign (or Canvas step) and
    variation. -#}
{%- set message_identifier_candidates = [
    dbt.concat(["'dispatch:'", 'dispatch_id', "':'", "coalesce(message_variation_id, canvas_step_id, '')"]),
    dbt.concat(["'send:'", 'send_id']),
    dbt.concat(["'message:'", 'message_id']),
    dbt.concat(["'campaign:'", "coalesce(canvas_step_id, campaign_id, canvas_id)", "':'",
                "\n            coalesce(canvas_variation_id, message_variation_id, '')"]),
] -%}
{%- set message_key_parts = dbt.concat([
    'provider', "'|'", 'user_id', "'|'", "coalesce(channel, '')", "'|'", 'message_identifier'
]) -%}
{%- set non_message_types = outbound_events.non_message_event_types() -%}
{%- set goal_names = outbound_events.conversion_goal_names() -%}
{%- set goal_name_list = [] -%}
{%- for name in goal_names + ['~no goal~'] -%}
    {%- do goal_name_list.append(outbound_events.sql_string(name)) -%}
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
        nullif(trim(bounce_type), '') as bounce_type
    from {{ ref('event_type_mapping') }}
),

channel_mapping as (
    select
        channel,
        lower(trim(provider_channel)) as channel_key
    from {{ ref('channel_mapping') }}
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
        coalesce(exact_mapping.bounce_type, default_mapping.bounce_type) as bounce_type
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

keyed as (
    select
        *,
        coalesce(
            {{ message_identifier_candidates | join(',\n            ') }}
        ) as message_identifier
    from mapped
),

message_events_flagged as (
    select
        *,
        case
            when
                message_identifier is not null
                and event_type not in (
                    {%- for event_type in non_message_types %}
                        '{{ event_type }}'{{ "," if not loop.last }}
                    {%- endfor %}
                )
                then {{ message_key_parts }}
        end as message_key_parts,
        (
            event_type = 'conversion'
            or (event_type = 'custom' and lower(trim(provider_event_name)) in ({{ goal_name_list | join(', ') }}))
        ) as is_conversion_goal
    from keyed
),

final as (
    select
        *,
        {{ dbt.hash('message_key_parts') }} as message_key
    from message_events_flagged
)

select * from final
