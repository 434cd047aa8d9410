{#- One row per distinct event, personal data hashed or masked (README "Personal
    data"). Copies of one event (same event_id) collapse to the first one landed
    (earliest load, then file and position); `copies_received` counts them and
    `conflicting_copies` those whose content differs from the kept copy (they are
    listed in rejected_events as `conflicting_duplicate`).
    Incremental (delete+insert on event_id): a run rebuilds only the events that have
    a copy in the loads landed since the last build, from all their copies, so late
    events and late duplicates give the same rows as a full refresh. Changing the
    mapping seeds needs a full refresh. -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook=["{{ outbound_events.record_processed_loads() }}"],
) }}

-- depends_on: {{ ref('int_loads_in_run') }}

-- depends_on: {{ ref('int_events_validated') }}

{%- set window_events -%}
    {%- if is_incremental() %}
    select validated.event_id
    from {{ ref('int_events_validated') }} as validated
    where
        validated.event_id is not null
        and {{ outbound_events.in_new_loads('validated.load_id') }}
    {%- endif %}
{%- endset %}

with

{# The copies are ranked on their narrow lineage columns only; the wide row (JSON,
    properties) is fetched for the kept copy alone. #}
copies as (
    select
        event_id,
        record_id,
        content_sha256,
        row_number() over (
            partition by event_id
            order by loaded_at asc, load_id asc, source_file asc, source_position asc, event_position asc
        ) as copy_number
    from {{ ref('int_events_validated') }}
    where
        event_id is not null
        and {{ 'event_id in (' ~ window_events ~ ')' if is_incremental() else 'true' }}
),

kept as (
    select
        event_id,
        record_id,
        content_sha256 as kept_content_sha256
    from copies
    where copy_number = 1
),

copies_counted as (
    select
        kept.event_id,
        kept.record_id,
        count(*) as copies_received,
        {{ outbound_events.count_if(
            "copies.copy_number > 1 and coalesce(copies.content_sha256, '') != coalesce(kept.kept_content_sha256, '')"
        ) }} as conflicting_copies
    from kept
    inner join copies
        on kept.event_id = copies.event_id
    group by kept.event_id, kept.record_id
),

mapped_events as (
    select * from {{ ref('int_events_mapped') }}
    {%- if is_incremental() %}
    where event_id in ({{ window_events }})
    {%- endif %}
),

kept_copies as (
    select
        mapped_events.*,
        copies_counted.copies_received
    from mapped_events
    inner join copies_counted
        on mapped_events.record_id = copies_counted.record_id
),

conflicts_counted as (
    select
        event_id,
        conflicting_copies
    from copies_counted
),

final as (
    select
        kept_copies.event_id,
        kept_copies.provider,
        {{ outbound_events.pii_id('kept_copies.provider_event_id') }} as provider_event_id,
        {{ outbound_events.pii_free_text('kept_copies.provider_event_name') }} as provider_event_name,
        kept_copies.event_type,
        kept_copies.channel,
        {{ outbound_events.pii_free_text('kept_copies.provider_channel') }} as provider_channel,
        kept_copies.occurred_at,
        kept_copies.timestamp_source,
        {{ outbound_events.pii_free_text('kept_copies.user_timezone') }} as user_timezone,
        kept_copies.loaded_at,
        {{ outbound_events.pii_id('kept_copies.user_id') }} as user_id,
        {{ outbound_events.pii_id('kept_copies.external_user_id') }} as external_user_id,
        kept_copies.message_key,
        {{ outbound_events.pii_id('kept_copies.campaign_id') }} as campaign_id,
        {{ outbound_events.pii_free_text('kept_copies.campaign_name') }} as campaign_name,
        {{ outbound_events.pii_id('kept_copies.message_variation_id') }} as message_variation_id,
        {{ outbound_events.pii_id('kept_copies.canvas_id') }} as canvas_id,
        {{ outbound_events.pii_free_text('kept_copies.canvas_name') }} as canvas_name,
        {{ outbound_events.pii_id('kept_copies.canvas_variation_id') }} as canvas_variation_id,
        {{ outbound_events.pii_free_text('kept_copies.canvas_variation_name') }} as canvas_variation_name,
        {{ outbound_events.pii_id('kept_copies.canvas_step_id') }} as canvas_step_id,
        {{ outbound_events.pii_free_text('kept_copies.canvas_step_name') }} as canvas_step_name,
        {{ outbound_events.pii_id('kept_copies.dispatch_id') }} as dispatch_id,
        {{ outbound_events.pii_id('kept_copies.send_id') }} as send_id,
        {{ outbound_events.pii_id('kept_copies.message_id') }} as message_id,
        {{ outbound_events.pii_free_text('kept_copies.message_type') }} as message_type,
        {{ outbound_events.pii_free_text('kept_copies.message_subject') }} as message_subject,
        {{ outbound_events.pii_url('kept_copies.url') }} as url,
        {{ outbound_events.pii_id('kept_copies.link_id') }} as link_id,
        {{ outbound_events.pii_id('kept_copies.list_id') }} as list_id,
        {{ outbound_events.pii_free_text('kept_copies.list_name') }} as list_name,
        kept_copies.bounce_type,
        {{ outbound_events.pii_free_text('kept_copies.bounce_reason') }} as bounce_reason,
        {{ outbound_events.pii_id('kept_copies.error_code') }} as error_code,
        {{ outbound_events.pii_free_text('kept_copies.error_message') }} as error_message,
        {{ outbound_events.pii_free_text('kept_copies.platform') }} as platform,
        {{ outbound_events.pii_id('kept_copies.device_id') }} as device_id,
        {{ outbound_events.pii_id('kept_copies.app_id') }} as app_id,
        {{ outbound_events.pii_id('kept_copies.subscription_group_id') }} as subscription_group_id,
        {{ outbound_events.pii_free_text('kept_copies.subscription_status') }} as subscription_status,
        kept_copies.conversion_behavior_index,
        kept_copies.is_in_control_group,
        kept_copies.is_conversion_goal,
        coalesce(kept_copies.is_machine_open, false) as is_machine_open,
        coalesce(kept_copies.is_suspected_bot_click, false) as is_suspected_bot_click,
        {{ outbound_events.pii_free_text('kept_copies.suspected_bot_click_reason') }} as suspected_bot_click_reason,
        {{ outbound_events.pii_free_text('kept_copies.abort_type') }} as abort_type,
        {{ outbound_events.pii_free_text('kept_copies.abort_log') }} as abort_log,
        {{ outbound_events.pii_free_text('kept_copies.exit_reason') }} as exit_reason,
        {{ outbound_events.pii_free_text('kept_copies.custom_event_name') }} as custom_event_name,
        {{ outbound_events.pii_id('kept_copies.product_id') }} as product_id,
        kept_copies.price,
        upper(trim(kept_copies.currency)) as currency,
        kept_copies.quantity,
        case
            when kept_copies.event_type = 'purchase' then kept_copies.price * coalesce(kept_copies.quantity, 1)
        end as revenue,
        {{ outbound_events.pii_identifier('kept_copies.email_address') }} as email_address,
        {{ outbound_events.pii_identifier('kept_copies.phone_number') }} as phone_number,
        {{ outbound_events.pii_identifier('kept_copies.sender_phone_number') }} as sender_phone_number,
        {{ outbound_events.pii_identifier('kept_copies.ip_address') }} as ip_address,
        {{ outbound_events.pii_identifier('kept_copies.ad_id') }} as ad_id,
        {{ outbound_events.pii_free_text('kept_copies.message_body') }} as message_body,
        {{ outbound_events.pii_free_text('kept_copies.properties') }} as properties,
        kept_copies.copies_received,
        conflicts_counted.conflicting_copies,
        kept_copies.content_sha256,
        {{ outbound_events.pii_free_text('kept_copies.source_file') }} as source_file,
        kept_copies.source_position,
        kept_copies.event_position,
        kept_copies.load_id,
        kept_copies.record_id
    from kept_copies
    inner join conflicts_counted
        on kept_copies.event_id = conflicts_counted.event_id
)

select * from final
