{#- One row per distinct event, personal data hashed or masked
    (docs/personal-data.md). Copies of one event (same event_id) collapse to the first one landed
    (earliest load, then file and position); `copies_received` counts them and
    `conflicting_copies` those whose content differs from the kept copy (they are
    listed in rejected_events as `conflicting_duplicate`).
    Incremental (delete+insert on event_id): a run rebuilds only the events of
    int_event_ids_with_new_copies, from all their copies, so late events and late
    duplicates give the same rows as a full refresh. Changing the
    mapping seeds needs a full refresh. -#}
{{ config(outbound_events.follows_loads('delete+insert', unique_key='event_id')) }}

{#- The columns of the table, in order, each with how its personal data is treated
    (macros/personal_data.sql: 'id', 'name', 'free_text', 'json', 'url'; none: kept
    as it is) or the expression that computes it. A column the policy (seed
    personal_data_keys) names is hashed, redacted or dropped whatever its treatment. -#}
{%- set columns = [
    ('event_id', none),
    ('provider', none),
    ('provider_event_id', 'id'),
    ('provider_event_name', 'free_text'),
    ('event_type', none),
    ('channel', none),
    ('provider_channel', 'free_text'),
    ('occurred_at', none),
    ('timestamp_source', none),
    ('user_timezone', 'free_text'),
    ('loaded_at', none),
    ('user_id', 'id'),
    ('external_user_id', 'id'),
    ('message_key', none),
    ('campaign_id', 'id'),
    ('campaign_name', 'name'),
    ('message_variation_id', 'id'),
    ('canvas_id', 'id'),
    ('canvas_name', 'name'),
    ('canvas_variation_id', 'id'),
    ('canvas_variation_name', 'name'),
    ('canvas_step_id', 'id'),
    ('canvas_step_name', 'name'),
    ('dispatch_id', 'id'),
    ('send_id', 'id'),
    ('message_id', 'id'),
    ('message_type', 'free_text'),
    ('message_subject', 'free_text'),
    ('url', 'url'),
    ('link_id', 'id'),
    ('list_id', 'id'),
    ('list_name', 'name'),
    ('bounce_type', none),
    ('bounce_reason', 'free_text'),
    ('error_code', 'id'),
    ('error_message', 'free_text'),
    ('platform', 'free_text'),
    ('device_id', 'id'),
    ('app_id', 'id'),
    ('subscription_group_id', 'id'),
    ('subscription_status', 'free_text'),
    ('conversion_behavior_index', none),
    ('is_in_control_group', none),
    ('is_conversion_goal', none),
    ('is_machine_open', "coalesce(is_machine_open, false)"),
    ('is_suspected_bot_click', "coalesce(is_suspected_bot_click, false)"),
    ('suspected_bot_click_reason', 'free_text'),
    ('abort_type', 'free_text'),
    ('abort_log', 'free_text'),
    ('exit_reason', 'free_text'),
    ('custom_event_name', 'free_text'),
    ('product_id', 'id'),
    ('price', none),
    ('currency', "upper(trim(currency))"),
    ('quantity', none),
    ('revenue', "case when event_type = 'purchase' then price * coalesce(quantity, 1) end"),
    ('email_address', 'id'),
    ('phone_number', 'id'),
    ('sender_phone_number', 'id'),
    ('ip_address', 'id'),
    ('ad_id', 'id'),
    ('message_body', 'free_text'),
    ('properties', 'json'),
    ('copies_received', none),
    ('conflicting_copies', none),
    ('content_sha256', none),
    ('source_file', 'free_text'),
    ('source_position', none),
    ('event_position', none),
    ('load_id', none),
    ('record_id', none),
] -%}

{%- set policy = outbound_events.personal_data_policy() -%}
{%- set personal_values = outbound_events.personal_values('properties', policy) -%}
{%- set screened_columns = [] -%}
{%- set output_columns = [] -%}
{%- for name, treatment in columns -%}
    {%- if treatment in ['id', 'name', 'free_text', 'json', 'url'] -%}
        {%- do screened_columns.append(name) -%}
        {%- set guard = none if outbound_events.column_policy_action(name, policy) else 'may_hold_personal_data' -%}
        {%- do output_columns.append(outbound_events.pii_treated(
            name, treatment, guard, policy, 'personal_values' if personal_values else none) ~ ' as ' ~ name) -%}
    {%- elif treatment -%}
        {%- do output_columns.append(treatment ~ ' as ' ~ name) -%}
    {%- else -%}
        {%- do output_columns.append(name) -%}
    {%- endif -%}
{%- endfor %}

-- depends_on: {{ ref('personal_data_keys') }}

{#- The events to rebuild, and the loads holding their copies: copies are read only
    from those loads (the tables are in load order: the engine skips the others). -#}
{%- set window_events = 'select event_id from ' ~ ref('int_event_ids_with_new_copies') %}
{%- set in_loads_with_copies = outbound_events.in_loads_to_recompute() %}

with

{# Most events arrive once. Only the events with more than one copy are ranked (on
    their narrow lineage columns); every other event is its own kept copy, so no
    operator holds every event's lineage at once, and the wide row (JSON, properties)
    is read once, streaming past the small sets of later copies and counts. #}
candidate_copies as (
    select
        event_id,
        record_id,
        content_sha256,
        loaded_at,
        load_id,
        source_file,
        source_position,
        event_position
    from {{ ref('int_events_validated') }}
    where
        event_id is not null
        and {{ 'event_id in (' ~ window_events ~ ') and ' ~ in_loads_with_copies if is_incremental() else 'true' }}
),

events_received_more_than_once as (
    select event_id
    from candidate_copies
    group by event_id
    having count(*) > 1
),

copies_ranked as (
    select
        candidate_copies.event_id,
        candidate_copies.record_id,
        candidate_copies.content_sha256,
        row_number() over (
            partition by candidate_copies.event_id
            order by
                candidate_copies.loaded_at asc,
                candidate_copies.load_id asc,
                candidate_copies.source_file asc,
                candidate_copies.source_position asc,
                candidate_copies.event_position asc
        ) as copy_number
    from candidate_copies
    inner join events_received_more_than_once
        on candidate_copies.event_id = events_received_more_than_once.event_id
),

first_copies as (
    select
        event_id,
        record_id,
        content_sha256 as kept_content_sha256
    from copies_ranked
    where copy_number = 1
),

later_copies as (
    select record_id
    from copies_ranked
    where copy_number > 1
),

copies_counted as (
    select
        first_copies.record_id,
        count(*) as copies_received,
        {{ outbound_events.count_if(
            "copies_ranked.copy_number > 1"
            ~ " and coalesce(copies_ranked.content_sha256, '') != coalesce(first_copies.kept_content_sha256, '')"
        ) }} as conflicting_copies
    from first_copies
    inner join copies_ranked
        on first_copies.event_id = copies_ranked.event_id
    group by first_copies.record_id
),

mapped_events as (
    select * from {{ ref('int_events_mapped') }}
    {%- if is_incremental() %}
    where event_id in ({{ window_events }}) and {{ in_loads_with_copies }}
    {%- endif %}
),

kept_copies as (
    select
        mapped_events.*,
        coalesce(copies_counted.copies_received, 1) as copies_received,
        coalesce(copies_counted.conflicting_copies, 0) as conflicting_copies
    from mapped_events
    left join later_copies
        on mapped_events.record_id = later_copies.record_id
    left join copies_counted
        on mapped_events.record_id = copies_counted.record_id
    where later_copies.record_id is null
),

{# One pattern match over all the columns that may hold personal data (most rows
    hold none): only the rows it finds go through the per-column hashing and masking. #}
screened as (
    select
        *,
        {{ outbound_events.may_hold_personal_data(screened_columns, policy) }} as may_hold_personal_data
    from kept_copies
),

{# The values of the keys the policy redacts (names, streets) of the rows that may hold
    personal data, masked wherever else they appear in the row's text. #}
with_personal_values as (
    select
        *,
        {{ 'case when may_hold_personal_data then ' ~ personal_values ~ ' end' if personal_values else 'null' }}
            as personal_values
    from screened
),

final as (
    select
        {{ output_columns | join(',\n        ') }}
    from with_personal_values
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
