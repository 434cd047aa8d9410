{#- CrossEngage outbound events, API bodies unnested to one row per event and Data Feed
    records as they are (see macros/crossengage_family_events.sql). -#}
{{ outbound_events.crossengage_family_events('crossengage', source('crossengage', 'events')) }}
