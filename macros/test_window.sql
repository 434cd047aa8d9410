{#- Data tests of the event-level relations look, after an incremental run, at the rows
    landed in the latest var outbound_events__test_window_hours (what the run added; a
    full scan of the rest adds nothing the run could have changed). A test's `where`
    may say `__recent_rows__` (set project-wide in dbt_project.yml); it becomes that
    window on the large event-level relations (recent_rows_condition) and `true` everywhere else (and
    has_no_personal_data reads its relation whole: it filters by itself), on a
    --full-refresh and when var outbound_events__test_all_rows is on (`make test`, CI).
    dbt calls this macro to filter the relation a test reads (the `where` config). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if test_name == 'has_no_personal_data' and where == '__recent_rows__' -%}
        {%- set where = none -%}  {#- it scans by itself (recent_rows_only) -#}
    {%- endif -%}
    {%- if where and '__recent_rows__' in where -%}
        {%- set where = where | replace('__recent_rows__', outbound_events.recent_rows_condition(relation)) -%}
    {%- endif -%}
    {%- if where and where | trim != 'true' -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- SQL condition: the window of recent rows of `relation`, or `true` (on relations
    other than the large ones holding a row per raw record or event and its
    loaded_at). -#}
{% macro recent_rows_condition(relation) -%}
    {%- set large = ['outbound_events', 'int_events_deduplicated', 'int_events_validated', 'rejected_events'] -%}
    {%- if outbound_events.var_is_on('outbound_events__test_all_rows') or flags.FULL_REFRESH
        or relation is string or (relation.identifier not in large and not relation.identifier.endswith('__events')) -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('loaded_at >= ' ~ dbt.dateadd(
        'hour', -1 * (var('outbound_events__test_window_hours') | int), '(select max(loaded_at) from ' ~ relation ~ ')'
    )) }}
{%- endmacro %}
