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
    constant, so that the engine skips every other part of the table before any check
    runs (a subquery would let the checks' filters run on every row first).
    - the event-level relations: the loads of the work list int_loads_to_recompute (a
      constant list of load ids);
    - message_lifecycle: the days from the earliest message_date of the messages of the
      work list int_messages_to_recompute, as int_messages_aggregated holds them (every
      message the run rebuilt is on or after that day; a message without a date is
      always checked).
    Only the relations built after their work list in a run are windowed (their tests
    run after it was rebuilt: it names this run's work); the raw tables and
    int_events_validated, whose few tests are cheap (null counts, accepted values), are
    read whole. The work lists are found in the graph, not ref()ed (a test runs after
    every model it reads); where one does not exist yet, every row is checked. -#}
{% macro recent_rows_condition(relation) -%}
    {%- set identifier = '' if relation is string else relation.identifier -%}
    {%- set reads = {
        'int_events_deduplicated': ['int_loads_to_recompute'],
        'int_experiment_events': ['int_loads_to_recompute'],
        'outbound_events': ['int_loads_to_recompute'],
        'rejected_events': ['int_loads_to_recompute'],
        'message_lifecycle': ['int_messages_to_recompute', 'int_messages_aggregated'],
    }.get(identifier, []) -%}
    {%- set lists = [] -%}
    {%- for name in reads if execute -%}
        {%- set node = (graph.get('nodes') or {}).get('model.outbound_events.' ~ name) -%}
        {%- set found = adapter.get_relation(node.database, node.schema, node.alias) if node else none -%}
        {%- do lists.append(found) if found -%}
    {%- endfor -%}
    {%- if outbound_events.var_is_on('outbound_events__test_all_rows') or flags.FULL_REFRESH
        or not reads or lists | length < reads | length -%}
        {{ return('true') }}
    {%- elif identifier == 'message_lifecycle' -%}
        {%- set earliest = outbound_events.values_of(
            'select cast(min(messages.message_date) as ' ~ dbt.type_string() ~ ')'
            ~ ' from ' ~ lists[1] ~ ' as messages where messages.message_key in'
            ~ ' (select message_key from ' ~ lists[0] ~ ')'
        ) | reject('none') | list -%}
        {%- if not earliest -%}
            {{ return('message_date is null') }}
        {%- endif -%}
        {{ return('(message_date is null or message_date >= cast(' ~ outbound_events.sql_string(earliest[0]) ~ ' as date))') }}
    {%- endif -%}
    {{ return(outbound_events.in_load_list(outbound_events.values_of('select load_id from ' ~ lists[0]))) }}
{%- endmacro %}
