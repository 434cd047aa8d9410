{#- The loads this run may process, one row each: every load id in the raw tables
    (every provider's records and the loader's file rejections), or, with var
    outbound_events__max_loads_per_run (a backfill in bounded steps), the loads
    int_events_validated has processed (none on --full-refresh) and the next that many
    in load order (`loaded_at`, then id). Every incremental model processes the loads
    listed here that it has not processed yet (int_loads_processed). -#}
{{ config(materialized='table') }}
{%- set step = var('outbound_events__max_loads_per_run', none) %}
{%- set selects = [] %}
{%- for provider in outbound_events.providers() %}
    {%- do selects.append('select load_id, loaded_at from ' ~ outbound_events.raw_source(provider, 'events')) %}
{%- endfor %}
{%- do selects.append('select load_id, loaded_at from ' ~ outbound_events.raw_source('loader', 'load_rejections')) %}

with

landed_records as (
    {{ selects | join('\n    union all\n    ') }}
),

landed as (
    select
        load_id,
        min(loaded_at) as loaded_at
    from landed_records
    where load_id is not null
    group by load_id
),

built as (
    select load_id from {{ ref('int_loads_processed') }}
    where model_name = 'int_events_validated' and {{ 'false' if flags.FULL_REFRESH else 'true' }}
),

next_loads as (
    select load_id from landed
    where load_id not in (select built.load_id from built)
    order by loaded_at, load_id
    {{ 'limit ' ~ (step | int) if step else '' }}
),

final as (
    select load_id from landed
    where load_id in (select built.load_id from built)
    union all
    select load_id from next_loads
)

select distinct load_id from final
