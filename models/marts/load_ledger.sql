{#- Per provider and load: what came in and where it went. Nothing is lost when
    records_in = events_out + duplicates_removed + rejected (is_balanced), and every raw
    record reached staging (raw_records = raw_records_staged). `rejected` includes the
    `conflicting_duplicates` (copies of an event id whose content differs from the
    kept copy).
    Incremental: a run recomputes the loads of int_loads_to_recompute (those it has
    not processed and the older loads holding copies of their events, whose duplicates
    can be counted anew). -#}
{{ config(outbound_events.follows_loads(
    'append',
    deletes='outbound_events.in_loads_to_recompute()',
)) }}

{%- set loads_to_recompute = outbound_events.in_loads_to_recompute() %}
{%- set recent = ' where ' ~ loads_to_recompute if is_incremental()
    else (' where ' ~ outbound_events.in_loads_of_run() if outbound_events.loads_are_limited() else '') -%}
{%- set raw_counts = [] -%}
{%- for provider in outbound_events.providers() -%}
    {%- do raw_counts.append(
        "select '" ~ provider ~ "' as provider, load_id, min(loaded_at) as loaded_at, count(*) as raw_records"
        ~ " from " ~ outbound_events.raw_source(provider, 'events') ~ recent ~ " group by load_id"
    ) -%}
{%- endfor %}

with

raw_records as (
    {{ raw_counts | join('\n    union all\n    ') }}
),

file_rejections as (
    select
        provider,
        load_id,
        min(loaded_at) as loaded_at,
        count(*) as file_rejections
    from {{ outbound_events.raw_source('loader', 'load_rejections') }}{{ recent }}
    group by provider, load_id
),

staged as (
    select * from {{ ref('int_events_validated') }}{{ recent }}
),

staged_counts as (
    select
        provider,
        load_id,
        count(*) as staged_records,
        {{ outbound_events.count_if('event_position = 1') }} as raw_records_staged
    from staged
    group by provider, load_id
),

{# The kept copies of the events received more than once: the join below then
    reads the copies of those events only. #}
survivors as (
    select
        event_id,
        record_id,
        content_sha256
    from {{ ref('int_events_deduplicated') }}
    where copies_received > 1
),

duplicates as (
    select
        staged.provider,
        staged.load_id,
        {{ outbound_events.count_if(
            "coalesce(staged.content_sha256, '') = coalesce(survivors.content_sha256, '')"
        ) }} as duplicates_removed,
        {{ outbound_events.count_if(
            "coalesce(staged.content_sha256, '') != coalesce(survivors.content_sha256, '')"
        ) }} as conflicting_duplicates
    from staged
    inner join survivors
        on staged.event_id = survivors.event_id
    where staged.record_id != survivors.record_id
    group by staged.provider, staged.load_id
),

events_out as (
    select
        provider,
        load_id,
        count(*) as events_out
    from {{ ref('int_events_deduplicated') }}{{ recent }}
    group by provider, load_id
),

rejected as (
    select
        provider,
        load_id,
        count(*) as rejected
    from {{ ref('rejected_events') }}{{ recent }}
    group by provider, load_id
),

loads as (
    select
        provider,
        load_id,
        loaded_at
    from raw_records
    union
    select
        provider,
        load_id,
        loaded_at
    from file_rejections
),

load_times as (
    select
        provider,
        load_id,
        min(loaded_at) as loaded_at
    from loads
    group by provider, load_id
),

ledger as (
    select
        load_times.provider,
        load_times.load_id,
        load_times.loaded_at,
        coalesce(raw_records.raw_records, 0) as raw_records,
        coalesce(staged_counts.raw_records_staged, 0) as raw_records_staged,
        coalesce(staged_counts.staged_records, 0) as staged_records,
        coalesce(file_rejections.file_rejections, 0) as file_rejections,
        coalesce(events_out.events_out, 0) as events_out,
        coalesce(duplicates.duplicates_removed, 0) as duplicates_removed,
        coalesce(duplicates.conflicting_duplicates, 0) as conflicting_duplicates,
        coalesce(rejected.rejected, 0) as rejected
    from load_times
    left join raw_records
        on load_times.provider = raw_records.provider and load_times.load_id = raw_records.load_id
    left join file_rejections
        on load_times.provider = file_rejections.provider and load_times.load_id = file_rejections.load_id
    left join staged_counts
        on load_times.provider = staged_counts.provider and load_times.load_id = staged_counts.load_id
    left join events_out
        on load_times.provider = events_out.provider and load_times.load_id = events_out.load_id
    left join duplicates
        on load_times.provider = duplicates.provider and load_times.load_id = duplicates.load_id
    left join rejected
        on load_times.provider = rejected.provider and load_times.load_id = rejected.load_id
),

final as (
    select
        *,
        staged_records + file_rejections as records_in,
        staged_records + file_rejections = events_out + duplicates_removed + rejected
        and raw_records = raw_records_staged as is_balanced
    from ledger
)

{% if outbound_events.keeps_rows() -%}
    {{ outbound_events.with_rows_kept() }}
{%- else -%}
    select * from final
{%- endif %}
