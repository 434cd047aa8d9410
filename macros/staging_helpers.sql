{#- Helpers shared by the staging models. They build on the dispatched macros in
    _engine.sql and contain no engine-specific SQL themselves. -#}

{#- The columns every staging model hands to the intermediate union, in order.
    Staging models fill the ones their provider has; the rest are typed nulls. -#}
{% macro staging_event_columns() -%}
    {{ return([
        ('provider', dbt.type_string()),
        ('provider_event_id', dbt.type_string()),
        ('provider_event_name', dbt.type_string()),
        ('provider_channel', dbt.type_string()),
        ('user_id', dbt.type_string()),
        ('external_user_id', dbt.type_string()),
        ('raw_timestamp', dbt.type_string()),
        ('occurred_at', dbt.type_timestamp()),
        ('timestamp_source', dbt.type_string()),
        ('user_timezone', dbt.type_string()),
        ('campaign_id', dbt.type_string()),
        ('campaign_name', dbt.type_string()),
        ('message_variation_id', dbt.type_string()),
        ('canvas_id', dbt.type_string()),
        ('canvas_name', dbt.type_string()),
        ('canvas_variation_id', dbt.type_string()),
        ('canvas_variation_name', dbt.type_string()),
        ('canvas_step_id', dbt.type_string()),
        ('canvas_step_name', dbt.type_string()),
        ('dispatch_id', dbt.type_string()),
        ('send_id', dbt.type_string()),
        ('message_id', dbt.type_string()),
        ('message_type', dbt.type_string()),
        ('message_subject', dbt.type_string()),
        ('url', dbt.type_string()),
        ('link_id', dbt.type_string()),
        ('list_id', dbt.type_string()),
        ('list_name', dbt.type_string()),
        ('bounce_reason', dbt.type_string()),
        ('error_code', dbt.type_string()),
        ('error_message', dbt.type_string()),
        ('platform', dbt.type_string()),
        ('device_id', dbt.type_string()),
        ('app_id', dbt.type_string()),
        ('subscription_group_id', dbt.type_string()),
        ('subscription_status', dbt.type_string()),
        ('conversion_behavior_index', dbt.type_bigint()),
        ('is_in_control_group', dbt.type_boolean()),
        ('email_address', dbt.type_string()),
        ('phone_number', dbt.type_string()),
        ('sender_phone_number', dbt.type_string()),
        ('ip_address', dbt.type_string()),
        ('ad_id', dbt.type_string()),
        ('message_body', dbt.type_string()),
        ('properties', dbt.type_string()),
        ('event_json', dbt.type_string()),
        ('source_file', dbt.type_string()),
        ('source_position', dbt.type_bigint()),
        ('event_position', dbt.type_bigint()),
        ('load_id', dbt.type_string()),
        ('loaded_at', dbt.type_timestamp()),
        ('parse_error', dbt.type_string()),
    ]) }}
{%- endmacro %}


{#- `select` list of every staging column from `relation_cte`, taking those in
    `provided` and a typed null for the others. -#}
{% macro select_staging_event_columns(relation_cte, provided) -%}
    {%- for name, data_type in outbound_events.staging_event_columns() %}
        {% if name in provided -%}
            {{ name }}
        {%- else -%}
            cast(null as {{ data_type }}) as {{ name }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- First non-empty text among the JSON paths, cast to `data_type`
    (strings are trimmed; empty strings count as missing). -#}
{% macro json_field(json_expr, paths, data_type=none) -%}
    {%- set texts = [] -%}
    {%- for path in paths -%}
        {%- do texts.append("nullif(trim(" ~ outbound_events.json_text(json_expr, path) ~ "), '')") -%}
    {%- endfor -%}
    {%- set value = texts[0] if texts | length == 1 else "coalesce(" ~ texts | join(", ") ~ ")" -%}
    {%- if data_type is none -%}
        {{ value }}
    {%- else -%}
        {{ dbt.safe_cast(value, data_type) }}
    {%- endif -%}
{%- endmacro %}


{#- One `<expression> as <column>` line per field of a staging model's field list.
    A field is (column, [json paths]) or (column, [json paths], data_type). -#}
{% macro json_field_columns(json_expr, fields) -%}
    {%- for field in fields %}
        {{ outbound_events.json_field(json_expr, field[1], field[2] if field | length > 2 else none) }} as {{ field[0] }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- All JSON paths named in a field list. -#}
{% macro field_paths(fields) -%}
    {%- set paths = [] -%}
    {%- for field in fields -%}
        {%- do paths.extend(field[1]) -%}
    {%- endfor -%}
    {{ return(paths) }}
{%- endmacro %}


{#- JSON text of a merge patch that removes the given paths ('$.a', '$.b.c'). -#}
{% macro removal_patch(paths) -%}
    {%- set patch = {} -%}
    {%- for path in paths -%}
        {%- set segments = path[2:].split('.') -%}
        {%- set ns = namespace(node=patch) -%}
        {%- for segment in segments[:-1] -%}
            {%- if segment not in ns.node or ns.node[segment] is none -%}
                {%- do ns.node.update({segment: {}}) -%}
            {%- endif -%}
            {%- set ns.node = ns.node[segment] -%}
        {%- endfor -%}
        {%- do ns.node.update({segments[-1]: none}) -%}
    {%- endfor -%}
    {{ return(tojson(patch, sort_keys=true)) }}
{%- endmacro %}


{#- JSON text of every field of a JSON object that no column took: the object minus
    `mapped_paths`, with a nested `properties` object (if any) lifted to the top
    level so that custom properties are addressable as `$.a.b` on `properties`.
    Null when nothing is left. -#}
{% macro unmapped_properties(json_expr, mapped_paths) -%}
    {%- set top_paths = [] -%}
    {%- set property_paths = [] -%}
    {%- for path in mapped_paths -%}
        {%- if path.startswith('$.properties.') -%}
            {%- do property_paths.append('$.' ~ path[13:]) -%}
        {%- elif path != '$.properties' -%}
            {%- do top_paths.append(path) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set rest = outbound_events.json_merge_patch(
        json_expr, "'" ~ outbound_events.removal_patch(top_paths + ['$.properties']) ~ "'") -%}
    {%- set properties_rest = outbound_events.json_merge_patch(
        outbound_events.json_text(json_expr, '$.properties'),
        "'" ~ outbound_events.removal_patch(property_paths) ~ "'") -%}
    {%- set lifted = outbound_events.json_merge_patch(rest, properties_rest) -%}
    {%- set not_lifted = outbound_events.json_merge_patch(
        json_expr, "'" ~ outbound_events.removal_patch(top_paths) ~ "'") -%}
    nullif(
        case
            when {{ json_expr }} is null then null
            when {{ outbound_events.json_kind(json_expr, '$.properties') }} = 'object' then {{ lifted }}
            else {{ not_lifted }}
        end,
        '{}'
    )
{%- endmacro %}


{#- UTC timestamp of an event time given as text: epoch seconds when numeric,
    otherwise ISO-8601 (Z, offset, no zone, or a bare date). -#}
{% macro parse_event_timestamp(text_expr) -%}
    case
        when {{ outbound_events.is_numeric_text(text_expr) }}
            then {{ outbound_events.epoch_seconds_to_timestamp(text_expr) }}
        else {{ outbound_events.iso_text_to_utc_timestamp(text_expr) }}
    end
{%- endmacro %}


{#- True when the text is a (signed, possibly fractional) decimal number. -#}
{% macro is_numeric_text(text_expr) -%}
    {{ outbound_events.regexp_full_match("trim(" ~ text_expr ~ ")", '-?[0-9]+([.][0-9]+)?') }}
{%- endmacro %}


{#- Shared first steps of every staging model: the raw rows with their payload
    checked. Adds `json_payload` (the payload when it is a JSON object, else null) and
    `parse_error` ('invalid_json', 'not_a_json_object' or null). -#}
{% macro checked_raw_records(source_relation) -%}
    select
        *,
        case
            when payload_kind = 'object' then payload
        end as json_payload,
        case
            when not is_valid_json then 'invalid_json'
            when payload_kind != 'object' then 'not_a_json_object'
        end as parse_error
    from (
        select
            *,
            {{ outbound_events.json_kind(
                "case when " ~ outbound_events.json_is_valid('payload') ~ " then payload end"
            ) }} as payload_kind,
            {{ outbound_events.json_is_valid('payload') }} as is_valid_json
        from {{ source_relation }}
    ) as raw_records
{%- endmacro %}


{#- `occurred_at` and `timestamp_source` of an event: its own time when it has one,
    else (for providers listed in var outbound_events__ingestion_time_providers)
    the time it was loaded. -#}
{% macro event_time_columns(provider, raw_timestamp_expr, loaded_at_expr='loaded_at') -%}
    {%- set ingestion_allowed = provider in var('outbound_events__ingestion_time_providers') -%}
    case
        when {{ raw_timestamp_expr }} is not null then {{ outbound_events.parse_event_timestamp(raw_timestamp_expr) }}
        {%- if ingestion_allowed %}
        else {{ loaded_at_expr }}
        {%- endif %}
    end as occurred_at,
    case
        when {{ raw_timestamp_expr }} is not null then 'event'
        {%- if ingestion_allowed %}
        else 'ingestion'
        {%- endif %}
    end as timestamp_source
{%- endmacro %}
