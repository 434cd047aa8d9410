{#- Data tests of the large relations look, after an incremental run, at the rows the
    run rebuilt: the records and events of the loads of its work list
    int_loads_to_recompute (docs/incremental.md; a full scan of the rest adds nothing
    the run could have changed; a run with nothing new checks nothing there). A test's `where`
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

{#- SQL condition: the rows of `relation` the last run rebuilt, or `true` (on the other
    relations, on --full-refresh and with var outbound_events__test_all_rows): a
    constant list of load ids, so that the engine skips every other part of the table
    before any check runs (a subquery would let the checks' filters run on every row
    first). Only the relations built after the work list in a run are windowed (their
    tests run after it was rebuilt: it names this run's loads); the raw tables and
    int_events_validated, whose few tests are cheap (null counts, accepted values), are
    read whole. The work list is found in the graph, not ref()ed (a test runs after every
    model it reads); where it does not exist yet, every row is checked. -#}
{% macro recent_rows_condition(relation) -%}
    {%- set windowed = ['int_events_deduplicated', 'outbound_events', 'rejected_events'] -%}
    {%- set identifier = '' if relation is string else relation.identifier -%}
    {%- set node = (graph.get('nodes') or {}).get('model.outbound_events.int_loads_to_recompute') -%}
    {%- set work_list = adapter.get_relation(node.database, node.schema, node.alias)
        if execute and node and identifier in windowed else none -%}
    {%- if outbound_events.var_is_on('outbound_events__test_all_rows') or flags.FULL_REFRESH or not work_list -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return(outbound_events.in_load_list(outbound_events.load_ids_of('select load_id from ' ~ work_list))) }}
{%- endmacro %}
