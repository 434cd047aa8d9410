{#- Every staged event with the reason it cannot become an event (`rejection_reason`,
    null for good events; the first failing check wins), its lineage id `record_id`,
    and for good events the key shared by copies of one event (`dedup_key`) and the
    event's stable `event_id`.
    Incremental: a run processes the loads it has not processed yet
    (int_loads_processed); a reprocessed load replaces its rows (delete+insert on
    load_id: a record belongs to one load, and the table is in load order, so the
    delete touches only the new loads' row groups instead of every stored record id). -#}
{#- On Spark (Parquet: no delete, no merge) the table is partitioned by load: a run
    overwrites the partitions of the loads it processes, which is delete+insert on
    record_id (a record belongs to one load). -#}
{{ config(
    materialized='incremental',
    unique_key='load_id',
    incremental_strategy='insert_overwrite' if target.type == 'spark' else 'delete+insert',
    partition_by=['load_id'] if target.type == 'spark' else none,
    on_schema_change='append_new_columns',
    post_hook=["{{ outbound_events.record_processed_loads() }}"],
) }}

{%- set min_valid_timestamp = outbound_events.sql_string(var('outbound_events__min_valid_timestamp')) -%}
{%- set latest_valid_timestamp = dbt.dateadd(
    'hour', var('outbound_events__future_tolerance_hours') | int, 'loaded_at'
) -%}
{%- set content_key = dbt.concat([
    "'content:'", 'content_sha256', "':'", dbt.cast('event_position', dbt.type_string())
]) -%}

{%- set new_load_ids = outbound_events.new_load_ids() %}

with

unioned as (
    select * from {{ ref('int_events_unioned') }}
    {%- if is_incremental() or outbound_events.loads_are_limited() %}
    where {{ outbound_events.in_load_list(new_load_ids) }}
    {%- endif %}
),

validated as (
    select
        *,
        {{ outbound_events.record_id() }} as record_id,
        case
            when parse_error is not null then parse_error
            when provider_event_name is null then 'missing_event_name'
            when user_id is null then 'missing_user_id'
            when raw_timestamp is null and occurred_at is null then 'missing_timestamp'
            when occurred_at is null and {{ outbound_events.is_numeric_text('raw_timestamp') }}
                then 'timestamp_out_of_range'
            when occurred_at is null then 'timestamp_unparseable'
            when occurred_at < cast({{ min_valid_timestamp }} as {{ dbt.type_timestamp() }})
                then 'timestamp_out_of_range'
            when occurred_at > {{ latest_valid_timestamp }} then 'timestamp_out_of_range'
        end as rejection_reason
    from unioned
),

{# Copies of one event share a dedup_key: the provider's event id where it sends one
    (Braze `id`, Customer.io `messageId`), else the record's content hash computed by
    the loader (canonical JSON) and the event's position in it (an API body's
    element). A record landed without a content hash is its own event. #}
keyed as (
    select
        *,
        case
            when rejection_reason is null
                then coalesce(
                    provider_event_id,
                    {{ content_key }},
                    {{ dbt.concat(["'record:'", 'record_id']) }}
                )
        end as dedup_key
    from validated
),

final as (
    select
        *,
        case
            when dedup_key is not null then {{ dbt.hash(dbt.concat(['provider', "'|'", 'dedup_key'])) }}
        end as event_id
    from keyed
)

select * from final
