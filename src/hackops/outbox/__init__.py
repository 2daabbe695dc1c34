"""The domain-event outbox: `service.emit` in the transaction of a change, `tasks.dispatch` fans
each event out to the connected channels, `catalog` holds one schema per event type."""
