{#- Every raw record (or unnested event) that could not become an event, and every
    file (or file tail) the loader could not read: where it came from, why, and its raw
    text (cut to a safe size, personal data masked).
    Incremental: a run recomputes the rejections of the loads of int_loads_to_recompute
    (the loads it has not processed and the older loads holding copies of their
    events: a conflicting copy can become the kept one when loads land out of order). -#}
{{ config(outbound_events.follows_loads(
    'append',
    deletes='outbound_events.in_loads_to_recompute()',
)) }}

{%- set loads_to_recompute = outbound_events.in_loads_to_recompute() %}
{%- set in_recomputed_loads = loads_to_recompute if is_incremental()
    else (outbound_events.in_loads_of_run() if outbound_events.loads_are_limited() else none) %}
{%- set copies_in_recomputed_loads = outbound_events.in_loads_to_recompute('copies.load_id') if is_incremental()
    else outbound_events.in_loads_of_run('copies.load_id') %}

-- depends_on: {{ ref('personal_data_keys') }}
with

rejected_records as (
    select
        provider,
        rejection_reason,
        source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        provider_event_name,
        user_id,
        raw_timestamp,
        event_json as raw_text
    from {{ ref('int_events_validated') }}
    where
        rejection_reason is not null
        and {{ in_recomputed_loads or 'true' }}
),

{# The kept copies of the (few) events that have a conflicting copy: the join below
    then reads the copies of those events only. #}
events_with_conflicts as (
    select
        event_id,
        record_id,
        content_sha256
    from {{ ref('int_events_deduplicated') }}
    where conflicting_copies > 0
),

{# Copies of an event id whose content differs from the copy kept (same Braze `id`
    or Customer.io `messageId`, another user or time): a provider-side conflict, shown
    rather than silently collapsed. #}
conflicting_copies as (
    select
        copies.provider,
        'conflicting_duplicate' as rejection_reason,
        copies.source_file,
        copies.source_position,
        copies.event_position,
        copies.load_id,
        copies.loaded_at,
        copies.provider_event_name,
        copies.user_id,
        copies.raw_timestamp,
        copies.event_json as raw_text
    from {{ ref('int_events_validated') }} as copies
    inner join events_with_conflicts as kept
        on copies.event_id = kept.event_id
    where
        copies.record_id != kept.record_id
        and coalesce(copies.content_sha256, '') != coalesce(kept.content_sha256, '')
        and {{ copies_in_recomputed_loads }}
),

rejected_files as (
    select * from {{ ref('stg_loader__load_rejections') }}
    {%- if in_recomputed_loads %}
    where {{ in_recomputed_loads }}
    {%- endif %}
),

rejected as (
    select * from rejected_records
    union all
    select * from conflicting_copies
    union all
    select * from rejected_files
),

final as (
    select
        {{ outbound_events.record_id() }} as rejected_event_id,
        provider,
        rejection_reason,
        {{ outbound_events.pii_free_text('source_file') }} as source_file,
        source_position,
        event_position,
        load_id,
        loaded_at,
        {{ outbound_events.pii_free_text('provider_event_name') }} as provider_event_name,
        {{ outbound_events.pii_id('user_id') }} as user_id,
        {{ outbound_events.pii_free_text('raw_timestamp') }} as raw_timestamp,
        {{ outbound_events.pii_json(
            'substring(raw_text, 1, ' ~ (var('outbound_events__rejected_raw_text_max_chars') | int) ~ ')'
        ) }} as raw_text
    from rejected
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
