{#- Probe of the engine-specific macros on edge inputs (dbt show on each target). -#}
{%- set fields = [('email', ['$.context.traits.email']), ('ip', ['$.context.ip']), ('x', ['$.properties.x']), ('ev', ['$.event'])] -%}
select
    id,
    {{ outbound_events.json_kind('j') }} as kind,
    case when {{ outbound_events.json_kind('j') }} = 'object' then {{ outbound_events.unmapped_properties('j', fields) }} end as props,
    cast({{ outbound_events.parse_event_timestamp('ts') }} as string) as ts_utc
from (values
    (1, '{"event":"e","a":1,"context":{"ip":"1.2.3.4","traits":{"email":"x","name":"n"},"z":2},"properties":{"x":1,"a":"nested"}}', '2024-05-01T09:00:00z'),
    (2, '{"a":1}', '2024-05-01 09:00:00 Europe/Berlin'),
    (3, '{"a":1,"b":2,"properties":{"b":null,"c":null}}', '2024-05-01 09:00:00 Mars/Olympus'),
    (4, '{"n":1.50,"big":12345678901234567890,"s":"qe","arr":[{"b":1,"a":2}],"e":1e5,"t":true,"z":null}', '2024-05-01'),
    (5, '{"properties":"str","context":5}', '2024-05-01T09:00'),
    (6, '{"a":{"y":1,"x":2},"properties":{"a":{"z":3}}}', '2024-05-01T09:00:00.123+0530'),
    (7, '{"a":1} x', '2024-05-01 09:00:00 EST'),
    (8, '[1', '2024-02-30'),
    (9, '"s"', '1529366403.5'),
    (10, '01', '-5'),
    (11, 'nul', '2024-05-01T09:00:00+02'),
    (12, '{}', '99999999999')
) as t (id, j, ts)
order by id
