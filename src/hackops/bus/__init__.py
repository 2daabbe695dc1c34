"""The RabbitMQ event bus: every outbox event published to a topic exchange (when AMQP_URL is set).

- `topology`: the exchange, the durable queues of the specification and their bindings, routing
  keys (`<org id>.<event type>`, `platform.<event type>` for events without an organization).
- `messages`: what one message holds (the event's envelope as JSON, its headers).
- `leader`: the relay's own database connection — the advisory lock that makes one relay
  active across every process, LISTEN on the outbox channel, and the horizon below which the
  outbox can no longer change (so events go out in `seq` order).
- `relay`: publish batches with publisher confirms, then mark them published (at least once).
- `tail`: `hackops events tail`. Readiness checks the broker and the backlog
  (`health/checks.py`: `broker_check`, `bus_backlog_check`).

RabbitMQ's client (aio-pika) is imported inside the functions that talk to the broker: a process
without AMQP_URL never loads it.
"""
