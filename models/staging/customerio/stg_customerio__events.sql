{#- Customer.io email semantic events (`Email Delivered`, `Email Opened`, ...). -#}
{{ outbound_events.json_provider_events('customerio', source('customerio', 'events'), [
    ('provider_event_id', ['$.messageId']),
    ('provider_event_name', ['$.event']),
    ('user_id', ['$.user_id', '$.userId']),
    ('raw_timestamp', ['$.timestamp']),
    ('message_id', ['$.properties.email_id']),
    ('message_subject', ['$.properties.email_subject']),
    ('campaign_id', ['$.properties.campaign_id']),
    ('campaign_name', ['$.properties.campaign_name']),
    ('link_id', ['$.properties.link_id']),
    ('url', ['$.properties.link_url']),
    ('list_id', ['$.properties.list_id']),
    ('list_name', ['$.properties.list_name']),
    ('email_address', ['$.context.traits.email']),
    ('ip_address', ['$.context.ip']),
]) }}
