{#- Personal data before the marts (docs/personal-data.md). Unless var
    outbound_events__keep_pii is true, two rules apply:

    1. The declared policy, seed `personal_data_keys` (key pattern -> hash | redact |
       drop): a column whose name matches a pattern, and every key of `properties`
       (and the other JSON texts: a rejected record's raw text) at any depth whose
       name matches one, is hashed (SHA-256 of salt + lower-cased trimmed value, so it
       still joins), replaced by `<redacted>`, or dropped (null; the key removed).
    2. Format detection on top: an id or a name is hashed when its whole value is an
       e-mail address or a phone number (never because of a part of it: UUIDs, hex
       and base-32 ids keep every byte); in free text and JSON e-mail addresses become
       `<email>`, phone numbers `<phone>`, IPv4 and IPv6 addresses `<ip>`, each only
       where it stands on its own (not glued to letters, digits, `-`, `_` or `.`).

    Salt: env var OUTBOUND_EVENTS_PII_SALT. -#}

{% macro keeps_pii() -%}
    {{ return(outbound_events.var_is_on('outbound_events__keep_pii')) }}
{%- endmacro %}

{#- --- formats ------------------------------------------------------------------- -#}

{#- E-mail addresses, also percent-encoded (`ann%40example.com`, in URLs). -#}
{% macro email_pattern() -%}
    {{ return('[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:[.][A-Za-z0-9-]+)+') }}
{%- endmacro %}

{#- A phone number, without its surroundings: international with `+` or `00`
    (`+49 (0)30 1234567`, `+44 20 7946 0958`, `0049-30-1234567`), national with a
    trunk 0 and an area code of 2-5 more digits (`0171 1234567`, `030/1234567`,
    `(030) 1234567`) and North American (`(555) 123-4567`, `555.123.4567`). A run of
    digits with no separator is a phone only after a `+` (`+4917112345678`): plain
    numbers (ids, epochs, prices) never are. -#}
{% macro phone_core_pattern() -%}
    {{ return(
        '[+][0-9]{1,3}(?:[ ./-]?[(]?[0-9]+[)]?){0,5}[ ./-]?[0-9]{4,}'
        ~ '|00[1-9][0-9]{0,2}(?:[ ./-][(]?[0-9]+[)]?){0,4}[ ./-][0-9]{3,}'
        ~ '|[(]?0[1-9][0-9]{1,4}(?:[)][ ]?|[)]?[ /-])[0-9]{3,}(?:[ -]?[0-9]{2,}){0,3}'
        ~ '|[(]?[0-9]{3}[)]?[ .-][0-9]{3}[ .-][0-9]{4}'
    ) }}
{%- endmacro %}

{#- An IPv4 address, or an IPv6 address (full, or shortened with `::`). -#}
{% macro ip_core_pattern() -%}
    {%- set octet = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])' -%}
    {%- set h = '[0-9A-Fa-f]{1,4}' -%}
    {{ return(
        '(?:' ~ octet ~ '[.]){3}' ~ octet
        ~ '|(?:' ~ h ~ ':){7}' ~ h
        ~ '|' ~ h ~ '(?::' ~ h ~ '){0,6}::(?:' ~ h ~ '(?::' ~ h ~ '){0,6})?'
        ~ '|::' ~ h ~ '(?::' ~ h ~ '){0,6}'
    ) }}
{%- endmacro %}

{#- A phone number standing on its own in text: group 1 is what precedes it (start,
    or a character that is no letter, digit, `.`, `_`, `@` or `-`), group 2 what follows
    (end, or such a character), so a UUID segment (`-0123-4567-`) or a date
    (`12/05/2024`) never matches. -#}
{% macro phone_pattern() -%}
    {{ return('(^|[^0-9A-Za-z._@-])(?:' ~ outbound_events.phone_core_pattern() ~ ')([^0-9A-Za-z_@-]|$)') }}
{%- endmacro %}

{#- An IP address standing on its own (groups as in phone_pattern; a following `.`
    only at a sentence's end, so `1.2.3.4.5` is no address). -#}
{% macro ip_pattern() -%}
    {{ return('(^|[^0-9A-Za-z._@-])(?:' ~ outbound_events.ip_core_pattern() ~ ')([^0-9A-Za-z._:@-]|[.][^0-9A-Za-z]|[.]?$)') }}
{%- endmacro %}

{#- Any of the formats in free text (one pass of the regular expression engine). -#}
{% macro personal_data_pattern() -%}
    {{ return('(?:' ~ outbound_events.email_pattern() ~ ')|' ~ outbound_events.phone_pattern() ~ '|' ~ outbound_events.ip_pattern()) }}
{%- endmacro %}

{#- A whole value (trimmed) that is an e-mail address or a phone number. -#}
{% macro whole_value_personal_pattern() -%}
    {{ return('(?:' ~ outbound_events.email_pattern() ~ ')|(?:' ~ outbound_events.phone_core_pattern() ~ ')') }}
{%- endmacro %}

{#- --- the declared policy --------------------------------------------------------- -#}

{#- The rows of seed personal_data_keys, each {pattern, action, applies_with}: read
    when a model that masks is run (the seed is its parent in the DAG, so `dbt build`
    seeds it first); none at parse time, and none when compiling before the seed
    exists (running a model then is an error, never a silent leak). A key pattern is a
    regular expression matched case-insensitively against a whole key name. Why read
    at compile time: a pattern taken from a table at run time is compiled again for
    every row (45 times slower on DuckDB, measured), a literal once. -#}
{% macro personal_data_policy() -%}
    {%- if not execute or outbound_events.keeps_pii() -%}{{ return([]) }}{%- endif -%}
    {#- found through the graph, not ref(): a unit test has no ref to it (the models
        that mask declare it with `-- depends_on`); a unit test has no graph either:
        there the seed is where dbt_project.yml puts the semantics seeds -#}
    {%- set seed = (graph.get('nodes') or {}).get('seed.outbound_events.personal_data_keys')
        or {'database': target.database, 'schema': outbound_events.generate_schema_name('intermediate', none), 'alias': 'personal_data_keys'} -%}
    {%- set relation = adapter.get_relation(database=seed.database, schema=seed.schema, identifier=seed.alias) -%}
    {%- if relation is none and flags.WHICH in ['run', 'build'] and model.resource_type == 'model' -%}
        {{ exceptions.raise_compiler_error(
            'seed personal_data_keys (the personal-data policy) is not in the warehouse: run `dbt seed` or `dbt build`') }}
    {%- endif -%}
    {%- if relation is none -%}{{ return([]) }}{%- endif -%}
    {%- set rows = run_query(
        'select key_pattern, action, applies_with from ' ~ relation ~ ' order by key_pattern, action'
    ).rows -%}
    {%- set policy = [] -%}
    {%- for row in rows -%}
        {%- set pattern = (row[0] or '') | trim -%}
        {%- set action = (row[1] or '') | trim | lower -%}
        {%- set applies_with = (row[2] or '') | trim -%}
        {%- for text in [pattern, applies_with] if not modules.re.fullmatch('[A-Za-z0-9_|()?*+.{},\\[\\] -]*', text) -%}
            {{ exceptions.raise_compiler_error(
                'seed personal_data_keys: key pattern ' ~ tojson(text) ~ ' may only hold letters, digits and _ | ( ) ? * + . { } , [ ] -') }}
        {%- endfor -%}
        {%- if applies_with and action != 'redact' -%}
            {{ exceptions.raise_compiler_error(
                'seed personal_data_keys: row ' ~ tojson([pattern, action]) ~ ': applies_with is for redact rows') }}
        {%- endif -%}
        {%- if action not in ['hash', 'redact', 'drop', 'keep'] or not pattern -%}
            {{ exceptions.raise_compiler_error(
                'seed personal_data_keys: row ' ~ tojson([pattern, action]) ~ ' needs a key pattern and an action hash, redact, drop or keep') }}
        {%- endif -%}
        {#- groups of the patterns do not capture: the masking counts its own groups -#}
        {%- set pattern, applies_with = modules.re.sub('[(](?![?])', '(?:', pattern), modules.re.sub('[(](?![?])', '(?:', applies_with) -%}
        {%- do policy.append({'pattern': pattern, 'action': action, 'applies_with': applies_with or none}) -%}
    {%- endfor -%}
    {{ return(policy) }}
{%- endmacro %}

{#- The action of the policy for a column (its name matched like a key), or none.
    Rows with `applies_with` are left to JSON (where both keys are in one record). -#}
{% macro column_policy_action(name, policy) -%}
    {%- for rule in policy if not rule.applies_with and modules.re.fullmatch(rule.pattern, name, modules.re.IGNORECASE) -%}
        {{ return(rule.action) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- The regular expression of a JSON key (with its quotes) matching one of the
    patterns, case-insensitively. -#}
{% macro json_key_pattern(patterns) -%}
    {{ return('"(?i:(?:' ~ patterns | join(')|(?:') ~ '))"\\s*:\\s*') }}
{%- endmacro %}

{#- A JSON value: a string, a number, true or false (`scalar`), or also an object or
    array nested up to three levels. null is no personal data and is left. -#}
{% macro json_value_pattern(scalar_only=false) -%}
    {%- set scalar = outbound_events.json_string_pattern() ~ '|' ~ outbound_events.json_number_pattern() ~ '|true|false' -%}
    {%- if scalar_only -%}{{ return(scalar) }}{%- endif -%}
    {%- set object = '[{](?:[^{}]|[{](?:[^{}]|[{][^{}]*[}])*[}])*[}]' -%}
    {%- set array = '\\[(?:[^\\[\\]]|\\[(?:[^\\[\\]]|\\[[^\\[\\]]*\\])*\\])*\\]' -%}
    {{ return(scalar ~ '|' ~ object ~ '|' ~ array) }}
{%- endmacro %}

{#- SQL: the JSON text with the policy applied to every key at any depth, one pass
    per action (a rule with `applies_with` redacts a key where a key matching it sits
    in the same object: a `city` beside a `street`). Each pass binds the text of the
    one before. -#}
{% macro pii_json_keys(expr, policy) -%}
    {%- set ns = namespace(sql=expr) -%}
    {%- set groups = {} -%}
    {%- for rule in policy if rule.action != 'keep' -%}
        {%- set group_key = rule.action ~ '|' ~ (rule.applies_with or '') -%}
        {%- do groups.update({group_key: groups.get(group_key, []) + [rule.pattern]}) -%}
    {%- endfor -%}
    {%- for group_key in groups | sort -%}
        {%- set action, applies_with = group_key.split('|', 1) -%}
        {%- set text = 'pii_json_' ~ loop.index -%}
        {%- set key = outbound_events.json_key_pattern(groups[group_key]) -%}
        {%- set with_key = outbound_events.json_key_pattern([applies_with]) if applies_with else none -%}
        {%- if with_key -%}
            {#- only where the other key sits in the same (innermost) object, before or after -#}
            {%- set value = '(?:' ~ outbound_events.json_value_pattern(true) ~ ')' -%}
            {%- set treated = outbound_events.regexp_replace_all(
                outbound_events.regexp_replace_all(
                    text, '([{][^{}]*' ~ with_key ~ '[^{}]*' ~ key ~ ')' ~ value, '\\1"<redacted>"'),
                '(' ~ key ~ ')' ~ value ~ '([^{}]*' ~ with_key ~ ')', '\\1"<redacted>"\\2') -%}
        {%- elif action == 'hash' -%}
            {%- set treated = outbound_events.json_values_hashed(text, '(' ~ key ~ ')(?:' ~ outbound_events.json_value_pattern(true) ~ ')') -%}
        {%- elif action == 'redact' -%}
            {%- set treated = outbound_events.regexp_replace_all(
                text, '(' ~ key ~ ')(?:' ~ outbound_events.json_value_pattern() ~ ')', '\\1"<redacted>"') -%}
        {%- else -%}
            {#- a pair followed by a comma goes with the comma; then the last (or only)
                pair of an object goes with the comma before it -#}
            {%- set pair = key ~ '(?:' ~ outbound_events.json_value_pattern() ~ '|null)' -%}
            {%- set treated = outbound_events.regexp_replace_all(
                outbound_events.regexp_replace_all(text, pair ~ '\\s*,\\s*', ''), '(?:,\\s*)?' ~ pair, '') -%}
        {%- endif -%}
        {%- set condition = outbound_events.regexp_contains(text, key) -%}
        {%- if applies_with -%}
            {%- set condition = condition ~ ' and ' ~ outbound_events.regexp_contains(text, outbound_events.json_key_pattern([applies_with])) -%}
        {%- endif -%}
        {%- set ns.sql = outbound_events.bind(ns.sql, text, 'case when ' ~ condition ~ ' then ' ~ treated ~ ' else ' ~ text ~ ' end') -%}
    {%- endfor -%}
    {{ return(ns.sql) }}
{%- endmacro %}

{#- SQL: the text with each match of `pattern` (group 1 a JSON key with its colon,
    then a string or number) written as the key and the salted hash of the value. -#}
{% macro json_values_hashed(expr, pattern) %}{{ return(adapter.dispatch('json_values_hashed', 'outbound_events')(expr, pattern)) }}{% endmacro %}

{#- SQL: the hashed form of one match `m` (a lambda's parameter) of json_values_hashed. -#}
{% macro json_pair_hashed(m) -%}
    {%- set key = outbound_events.regexp_replace_all(m, '^("[^"]*"\\s*:\\s*).*$', '\\1') -%}
    {%- set value = outbound_events.regexp_replace_all(
        outbound_events.regexp_replace_all(m, '^"[^"]*"\\s*:\\s*', ''), '^"|"$', '') -%}
    {{ dbt.concat([key, "'\"'", outbound_events.pii_hash(value), "'\"'"]) }}
{%- endmacro %}

{#- The text cut at the matches (pieces[i] before match i), each match replaced. -#}
{% macro duckdb__json_values_hashed(expr, pattern) -%}
    (
        array_to_string(
            list_transform(
                regexp_extract_all({{ expr }}, '{{ pattern }}', 0),
                lambda m, i: regexp_split_to_array({{ expr }}, '{{ pattern }}')[i] || {{ outbound_events.json_pair_hashed('m') }}
            ),
            ''
        ) || list_last(regexp_split_to_array({{ expr }}, '{{ pattern }}'))
    )
{%- endmacro %}
{% macro spark__json_values_hashed(expr, pattern) -%}
    {%- set literal = outbound_events.spark_regex_literal(pattern) -%}
    concat(
        array_join(
            transform(
                regexp_extract_all({{ expr }}, '{{ literal }}', 0),
                (m, i) -> concat(split({{ expr }}, '{{ literal }}', -1)[i], {{ outbound_events.json_pair_hashed('m') }})
            ),
            ''
        ),
        element_at(split({{ expr }}, '{{ literal }}', -1), -1)
    )
{%- endmacro %}

{#- --- values the policy names, wherever else they appear ------------------------------ -#}

{#- SQL: the array of the string values of the keys the policy redacts (without
    `applies_with`) in the JSON text: a person's name, street or date of birth, kept to
    mask the same value where it appears again in the record's free text (a campaign
    name `Welcome back, Annegret`). Only values of 3 characters or more holding a
    letter: a name, never a number that could be part of an id. -#}
{% macro personal_values(json_expr, policy) -%}
    {%- set patterns = [] -%}
    {%- for rule in policy if rule.action == 'redact' and not rule.applies_with -%}
        {%- do patterns.append(rule.pattern) -%}
    {%- endfor -%}
    {%- if not patterns -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.dispatch('personal_values', 'outbound_events')(
        json_expr, outbound_events.json_key_pattern(patterns) ~ '"(' ~ outbound_events.json_string_content_pattern() ~ ')"')) }}
{%- endmacro %}
{% macro duckdb__personal_values(json_expr, pattern) -%}
    list_filter(
        regexp_extract_all({{ json_expr }}, '{{ pattern }}', 1),
        lambda v: length(v) >= 3 and regexp_matches(v, '[A-Za-z]') and v != '<redacted>'
    )
{%- endmacro %}
{% macro spark__personal_values(json_expr, pattern) -%}
    filter(
        regexp_extract_all({{ json_expr }}, '{{ outbound_events.spark_regex_literal(pattern) }}', 1),
        v -> length(v) >= 3 and v rlike '[A-Za-z]' and v != '<redacted>'
    )
{%- endmacro %}

{#- SQL: the text with every occurrence of each value of the array replaced by
    `<redacted>`. -#}
{% macro mask_values(expr, values_expr) %}{{ return(adapter.dispatch('mask_values', 'outbound_events')(expr, values_expr)) }}{% endmacro %}
{% macro duckdb__mask_values(expr, values_expr) -%}
    list_reduce(coalesce({{ values_expr }}, []), lambda masked, v: replace(masked, v, '<redacted>'), {{ expr }})
{%- endmacro %}
{% macro spark__mask_values(expr, values_expr) -%}
    aggregate(coalesce({{ values_expr }}, array()), {{ expr }}, (masked, v) -> replace(masked, v, '<redacted>'))
{%- endmacro %}

{#- --- treatments ------------------------------------------------------------------ -#}

{% macro pii_hash(expr) -%}
    {{ outbound_events.sha256_hex(dbt.concat([
        outbound_events.sql_string(env_var('OUTBOUND_EVENTS_PII_SALT', '')), 'lower(trim(' ~ expr ~ '))'
    ])) }}
{%- endmacro %}

{#- A value the policy names: hashed, redacted or dropped. -#}
{% macro pii_by_policy(expr, action) -%}
    {%- if action == 'hash' -%}
        case when {{ expr }} is not null then {{ outbound_events.pii_hash(expr) }} end
    {%- elif action == 'redact' -%}
        case when {{ expr }} is not null then '<redacted>' end
    {%- elif action == 'keep' -%}
        {{ expr }}
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- An id or a name: hashed when its whole value is an e-mail or a phone, else
    `otherwise` (by default the value itself). -#}
{% macro pii_id(expr, otherwise=none) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        case
            when {{ outbound_events.regexp_full_match('trim(' ~ expr ~ ')', outbound_events.whole_value_personal_pattern()) }}
                then {{ outbound_events.pii_hash(expr) }}
            else {{ otherwise or expr }}
        end
    {%- endif -%}
{%- endmacro %}

{#- Free text: e-mails, phones and IP addresses replaced by `<email>`, `<phone>`,
    `<ip>`. The phone and IP patterns read the character before and after a match,
    so two numbers one character apart take two passes. Most values hold none of
    them: one pass of the combined pattern spares them the replacements. -#}
{% macro pii_free_text(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        {%- set ns = namespace(sql=outbound_events.regexp_replace_all(expr, outbound_events.email_pattern(), '<email>')) -%}
        {%- for pattern, token in [(outbound_events.ip_pattern(), '<ip>'), (outbound_events.phone_pattern(), '<phone>')] -%}
            {%- for pass in range(2) -%}
                {%- set ns.sql = outbound_events.regexp_replace_all(ns.sql, pattern, '\\1' ~ token ~ '\\2') -%}
            {%- endfor -%}
        {%- endfor -%}
        case
            when {{ outbound_events.regexp_contains(expr, outbound_events.personal_data_pattern()) }}
                then {{ ns.sql }}
            else {{ expr }}
        end
    {%- endif -%}
{%- endmacro %}

{#- A name (campaign, Canvas, step, variation, list): hashed when the whole value is an
    e-mail or a phone, else free text. -#}
{% macro pii_name(expr) -%}
    {{ outbound_events.pii_id(expr, outbound_events.pii_free_text(expr)) }}
{%- endmacro %}

{#- JSON text (or text that may be JSON): the policy's keys at any depth, then free
    text. -#}
{% macro pii_json(expr, policy=none) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        {%- set policy = policy if policy is not none else outbound_events.personal_data_policy() -%}
        {%- set kept = outbound_events.kept_keys_pattern(policy) -%}
        {%- set keyed = outbound_events.pii_json_keys(expr, policy) -%}
        {%- if kept -%}
            {#- the string values of keys declared not personal (`keep`) start with a
                marker ending in `@` while the formats run: a phone or IP glued to it is
                not one on its own; the marker goes afterwards -#}
            {%- set keyed = outbound_events.regexp_replace_all(keyed, '(' ~ kept ~ ')"', '\\1"' ~ outbound_events.kept_marker()) -%}
            {%- set masked = outbound_events.regexp_replace_all(
                outbound_events.pii_free_text('pii_json_text'), '"' ~ outbound_events.kept_marker(), '"') -%}
        {%- else -%}
            {%- set masked = outbound_events.pii_free_text('pii_json_text') -%}
        {%- endif -%}
        {{ outbound_events.bind(keyed, 'pii_json_text', masked) }}
    {%- endif -%}
{%- endmacro %}

{#- The JSON key pattern of the policy's `keep` rows (keys declared not personal,
    such as Braze's `sending_ip`, the sender's server), or none. -#}
{% macro kept_keys_pattern(policy) -%}
    {%- set patterns = policy | selectattr('action', 'equalto', 'keep') | map(attribute='pattern') | list -%}
    {{ return(outbound_events.json_key_pattern(patterns) if patterns else none) }}
{%- endmacro %}

{% macro kept_marker() %}{{ return('~#@') }}{% endmacro %}

{#- A URL: free text, and the values of personal query parameters (`email=`,
    `phone=`, ...) removed. -#}
{% macro pii_url(expr) -%}
    {%- if outbound_events.keeps_pii() %}{{ expr }}{% else -%}
        {{ outbound_events.regexp_replace_all(
            outbound_events.pii_free_text(expr),
            '([?&;](?:e-?mail|mail|email_address|phone|phone_number|mobile|tel|msisdn|sms|first_?name|last_?name|name|ip)=)[^&#;]*', '\\1<redacted>'
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- A column treated as `treatment` ('id', 'name', 'free_text', 'json', 'url'),
    unless the policy names the column. With `values` (an array from
    personal_values), those values are masked too, except in ids. With `guard` (a
    boolean column from may_hold_personal_data), values of rows the guard clears are
    kept without looking at them again. -#}
{% macro pii_treated(expr, treatment, guard=none, policy=[], values=none) -%}
    {%- set action = outbound_events.column_policy_action(expr, policy) -%}
    {%- if outbound_events.keeps_pii() -%}{{ return(expr) }}{%- endif -%}
    {%- if action -%}{{ return(outbound_events.pii_by_policy(expr, action)) }}{%- endif -%}
    {%- if treatment == 'id' -%}{%- set treated = outbound_events.pii_id(expr) -%}
    {%- elif treatment == 'name' -%}{%- set treated = outbound_events.pii_name(expr) -%}
    {%- elif treatment == 'free_text' -%}{%- set treated = outbound_events.pii_free_text(expr) -%}
    {%- elif treatment == 'json' -%}{%- set treated = outbound_events.pii_json(expr, policy) -%}
    {%- elif treatment == 'url' -%}{%- set treated = outbound_events.pii_url(expr) -%}
    {%- else -%}{{ exceptions.raise_compiler_error('unknown personal-data treatment: ' ~ treatment) }}
    {%- endif -%}
    {%- if values and treatment != 'id' -%}
        {%- set treated = outbound_events.mask_values(treated, values) -%}
    {%- endif -%}
    {%- if guard -%}
        {{ return('case when ' ~ guard ~ ' then ' ~ treated ~ ' else ' ~ expr ~ ' end') }}
    {%- else -%}
        {{ return(treated) }}
    {%- endif -%}
{%- endmacro %}

{#- SQL: whether any of the columns may hold personal data: one match over their
    values joined by `|` (which bounds a value like its start does) of the formats
    and of the policy's JSON keys. -#}
{% macro may_hold_personal_data(columns, policy=[]) -%}
    {%- if outbound_events.keeps_pii() or not columns -%}
        false
    {%- else -%}
        {%- set pattern = outbound_events.personal_data_pattern() -%}
        {%- if policy -%}
            {%- set pattern = pattern ~ '|' ~ outbound_events.json_key_pattern(policy | map(attribute='pattern') | list) -%}
        {%- endif -%}
        coalesce({{ outbound_events.regexp_contains(outbound_events.concat_ws_nonnull("'|'", columns), pattern) }}, false)
    {%- endif -%}
{%- endmacro %}

{#- --- the test ------------------------------------------------------------------- -#}

{#- SQL: whether a text value still holds what the policy names in JSON: a key to hash
    or redact with a value that is neither `<redacted>` nor a hash, or a key to drop. -#}
{% macro policy_leak_condition(expr, policy) -%}
    {%- set conditions = [] -%}
    {%- for rule in policy if rule.action != 'keep' -%}
        {%- set key = outbound_events.json_key_pattern([rule.pattern]) -%}
        {%- if rule.action == 'drop' -%}
            {%- set leak = outbound_events.regexp_contains(expr, key ~ '(?:' ~ outbound_events.json_value_pattern() ~ ')') -%}
        {%- else -%}
            {%- set masked = key ~ '"(?:<redacted>|[0-9a-f]{64})"' -%}
            {%- set leak = outbound_events.regexp_contains(
                outbound_events.regexp_replace_all(expr, masked, ''), key ~ '(?:' ~ outbound_events.json_value_pattern(true) ~ ')') -%}
        {%- endif -%}
        {%- if rule.applies_with -%}
            {%- set with_key = outbound_events.json_key_pattern([rule.applies_with]) -%}
            {%- set scalar = '(?:' ~ outbound_events.json_value_pattern(true) ~ ')' -%}
            {%- set stripped = outbound_events.regexp_replace_all(expr, key ~ '"<redacted>"', '') -%}
            {%- set leak = outbound_events.regexp_contains(
                stripped, '[{][^{}]*' ~ with_key ~ '[^{}]*' ~ key ~ scalar ~ '|' ~ key ~ scalar ~ '[^{}]*' ~ with_key) -%}
        {%- endif -%}
        {%- do conditions.append(leak) -%}
    {%- endfor -%}
    {{ return(conditions | join(' or ') if conditions else 'false') }}
{%- endmacro %}

{#- Rows (relation_name, column_name, found) for each value of the relation's text
    columns (or of `columns`) holding an e-mail, a phone number or an IP address in
    clear text, or a key of the policy unmasked; a column the policy names must hold
    only hashes, `<redacted>` or null. None with keep_pii.
    recent_rows_only: only the rows the last run rebuilt (recent_rows_condition,
    macros/test_window.sql; unless var outbound_events__test_all_rows). -#}
{% macro personal_data_hits(relation, columns=none, recent_rows_only=false) -%}
    {%- set recent = outbound_events.recent_rows_condition(relation) if recent_rows_only else 'true' -%}
    {%- set policy = outbound_events.personal_data_policy() -%}
    {%- set names = columns or [] -%}
    {%- for column in (adapter.get_columns_in_relation(relation) if execute and not columns else []) -%}
        {%- do names.append(column.name) if column.is_string() -%}
    {%- endfor -%}
    {%- for name in names if not outbound_events.keeps_pii() %}
    {%- set action = outbound_events.column_policy_action(name, policy) %}
    {%- set kept = outbound_events.kept_keys_pattern(policy) %}
    {%- set scanned = outbound_events.regexp_replace_all(name, kept ~ outbound_events.json_string_pattern(), '') if kept else name %}
    select '{{ relation.identifier }}' as relation_name, '{{ name }}' as column_name, {{ name }} as found
    from {{ relation }}
    where
        {{ recent }}
        and (
            {{ outbound_events.regexp_contains(scanned, outbound_events.personal_data_pattern()) }}
            or {{ outbound_events.policy_leak_condition(name, policy) }}
            {%- if action and action != 'keep' %}
            or not {{ outbound_events.regexp_full_match(name, '[0-9a-f]{64}|<redacted>') }}
            {%- endif %}
        )
    {{ 'union all' if not loop.last }}
    {%- else %}
    select 'none' as relation_name, 'none' as column_name, 'none' as found where 1 = 0
    {%- endfor %}
{%- endmacro %}
