"""Idempotency keys: writes an API client can retry safely (Stripe's semantics).

A signed-in client sends `Idempotency-Key: <1-255 printable ASCII characters>` (a UUID is a good
choice) with a `POST` or `PATCH` under `/api/v1`. The first request with a key runs and its
response (status, the headers that describe it, body) is stored with the key for 24 hours. A
retry with the same key and the same request (SHA-256 of method, path with query, body) gets
the stored response without running again, marked `Idempotent-Replayed: true`. The same key
with another request is 422 `idempotency_key_reused`; a retry while the first still runs is
409 `idempotency_key_in_use` (with `Retry-After`). A malformed key is 400
`idempotency_key_invalid`.

`store.py` holds the table operations, `middleware.py` the ASGI middleware and the OpenAPI
documentation of the header; `install(app)` in `main.py` registers both.

Scope: keys belong to the person (the user of the session cookie or bearer token, so two tokens
of one person share keys, two people never do). Anonymous requests (register, sign-in, sign-in
links) have the key checked for syntax and otherwise ignored: keyed by the key alone, one
stranger could replay another's response (sign-in answers carry a session token); keyed by
address, people behind one NAT would. Those routes are safe to repeat anyway.

What is stored: 2xx and 4xx, like Stripe, except 401, 403, 408 and 429 (the caller's
credentials or pace, not the request, were refused: a retry after fixing them must run). 5xx
and exceptions are never stored: the claim is released and the client may retry. A refused
request wrote nothing (its transaction rolled back), so storing its answer only keeps answers
consistent. A replay does not re-check authorization: the response was already shown to the
same person and nothing is written.

Lifecycle of a key (table `idempotency_keys`, one row per (user, key)):

1. The body is read first, spooled (1 MiB in memory, the rest on disk) and hashed, with no
   database connection held while the client sends (uploads work; the body-limit middleware,
   outside this one, caps the size). It is then replayed to the application unchanged.
2. Claim, in its own short committed transaction: resolve the caller's token, then
   `INSERT … ON CONFLICT (user_id, key) DO UPDATE … WHERE <the row is expired>`, so the
   database alone decides who holds the key. An expired row is a completed one older than 24 h
   or an in-progress one older than 60 s (its request died). No row returned: read the row and
   answer 422 (other fingerprint), 409 (in progress) or the replay (completed).
3. The request runs. `TransactionalRoute` calls `before_commit` (see `db.CommitParticipant`):
   the row becomes `completed` with the response IN THE REQUEST'S OWN TRANSACTION, guarded by
   `claim = <this request's claim id>`, so the write and its stored response commit together.
4. Afterwards: a storable answer that did not come through step 3 (an error rendered after the
   rollback, no route) is stored in a short transaction of its own; anything else releases the
   claim (the row is deleted, guarded by the claim id).

Why the same transaction (decided so): a stored response committed separately after the write
can be lost to a crash or a lost connection in between, and after the claim timeout the retry
would run the write a second time. Committed together there is never a write without its stored
response nor a stored response without its write; the cost is one UPDATE in the request's
transaction.

Failure cases:

- Identical requests at once: the unique index serializes the claim INSERTs; one wins, the others
  get 409 (or the replay, if the winner committed first).
- Crash or kill before the commit: nothing committed; the row stays `in_progress`; retries get 409
  for up to 60 s, then the next one re-claims the key and runs.
- Crash after the commit, before the client read the answer: the retry is replayed.
- Commit outcome unknown (connection lost during COMMIT): both the write and the response
  committed (retry replays) or neither (retry re-claims after 60 s).
- A request that outlives its 60 s claim: a retry may re-claim the key; the first request's
  completion then matches no row, so it raises 409 and rolls its write back: exactly one of the
  two commits. If the first already completed (row locked), the re-claim waits for its commit and
  sees the completed row: replay.
- The database is down at the claim: 503 `database_unavailable`, nothing ran. Down at the release
  or the late store: logged; the row expires after 60 s.
- The client leaves while sending the body: nothing is claimed.
- A streaming response (none on POST/PATCH today) has no body at commit time: it is stored after
  it was sent (the weaker, separate-transaction guarantee).
- Deleting an account deletes its keys (foreign key, cascade); `maintenance.prune_idempotency_keys`
  deletes rows older than 24 h every hour (expired rows are treated as absent until then).
"""
