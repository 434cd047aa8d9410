{#- The incremental state: one row per incremental model and load it has processed.
    Only the models' post-hooks (macro record_processed_loads) write it, each in the
    transaction of its model's data; a build from scratch (--full-refresh) starts it
    empty, and every model built from scratch records its loads again. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite' if target.type == 'spark' else 'append',
    partition_by=['model_name'] if target.type == 'spark' else none,
) }}

with

no_rows as (
    select
        cast(null as {{ dbt.type_string() }}) as load_id,
        cast(null as {{ dbt.type_string() }}) as model_name
    where 1 = 0
)

select * from no_rows
