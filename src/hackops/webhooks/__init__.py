"""Outbound webhooks of an organization: endpoints, Standard Webhooks signing, delivery with
retries, the delivery log (`service`, `fanout` — the outbox channel —, `tasks`, `sending`,
`signing`, `urls`, `message`)."""
