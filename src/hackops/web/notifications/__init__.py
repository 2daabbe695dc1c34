"""The notification centre, its preferences and the one-click unsubscribe pages."""
