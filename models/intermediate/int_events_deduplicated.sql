{#- One row per distinct event: copies with the same `dedup_key` (provider event id,
    else content) collapse to the first one landed (earliest load, then file, position). -#}
with

mapped_events as (
    select * from {{ ref('int_events_mapped') }}
),

copies_ranked as (
    select
        *,
        row_number() over (
            partition by provider, dedup_key
            order by loaded_at, load_id, source_file, source_position, event_position
        ) as copy_number,
        count(*) over (partition by provider, dedup_key) as copies_received
    from mapped_events
),

final as (
    select
        *,
        {{ dbt.hash(dbt.concat(['provider', "'|'", 'dedup_key'])) }} as event_id
    from copies_ranked
    where copy_number = 1
)

select * from final
