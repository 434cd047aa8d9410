{#- The ids (user and external user ids) whose conversions, messages and user rows an
    incremental run recomputes: those of the events of the loads landed since its last
    build, widened to every id of their messages (a conversion matches a message
    by either id, so a late touch can move it between messages of the same person).
    Its rows are replaced on every run; built from scratch it holds every id, so that
    whatever reads it recomputes everything. -#}
{{ config(
    materialized=outbound_events.incremental_materialized(),
    incremental_strategy='append',
    pre_hook=["{{ outbound_events.delete_recomputed_rows('true') }}"],
    post_hook=["{{ outbound_events.record_processed_loads() }}"],
) }}

-- depends_on: {{ ref('int_loads_in_run') }}

-- depends_on: {{ ref('int_events_validated') }}

{%- set events = ref('int_events_deduplicated') %}
{%- set in_new_loads = outbound_events.in_new_loads() if is_incremental() else none %}

{% if is_incremental() -%}
    with

    new_ids as (
        select user_id as match_id from {{ events }} where {{ in_new_loads }}
        union
        select external_user_id from {{ events }}
        where {{ in_new_loads }} and external_user_id is not null
    ),

    affected_messages as (
        select distinct message_key from {{ events }}
        where
            message_key is not null
            and (
                user_id in (select match_id from new_ids)
                or external_user_id in (select match_id from new_ids)
            )
    ),

    final as (
        select user_id as match_id from {{ events }}
        where message_key in (select message_key from affected_messages)
        union
        select external_user_id from {{ events }}
        where message_key in (select message_key from affected_messages) and external_user_id is not null
        union
        select match_id from new_ids
    )

    select * from final
{%- else -%}
    with

    events as (
        select * from {{ ref('int_events_deduplicated') }}
    ),

    final as (
        select user_id as match_id from events
        union
        select external_user_id as match_id from events
        where external_user_id is not null
    )

    select * from final
{%- endif %}
