{#- Helpers of the experiment marts (docs/experiments.md). -#}

{#- SQL: a select of the latest non-null `name` of each `keys` group of the events in
    `relation` (latest by occurred_at, then event_id), one row a group. Braze's renames
    reach the events late, so every row of a group is given the one newest name;
    experiment_assignments and experiment_lift name experiments and variants by it. -#}
{% macro latest_names(relation, keys, name) -%}
    select
        {{ keys | join(',\n        ') }},
        {{ name }}
    from (
        select
            {{ keys | join(',\n            ') }},
            {{ name }},
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by occurred_at desc, event_id desc
            ) as name_rank
        from {{ relation }}
        where {{ name }} is not null
            {%- for key in keys %} and {{ key }} is not null{% endfor %}
    ) as ranked
    where name_rank = 1
{%- endmacro %}
