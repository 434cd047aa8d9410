"""outbound-events: raw messaging-platform exports into one fact table and funnels."""

__version__ = "0.1.0"
