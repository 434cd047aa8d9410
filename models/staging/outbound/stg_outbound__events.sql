{#- Outbound track events: customer actions with any name and nested custom
    properties (kept in `properties`, addressable as `$.membership.renewalDate`). -#}
{{ outbound_events.json_provider_events('outbound', source('outbound', 'events'), [
    ('provider_event_name', ['$.event']),
    ('user_id', ['$.user_id', '$.userId']),
    ('raw_timestamp', ['$.timestamp']),
]) }}
