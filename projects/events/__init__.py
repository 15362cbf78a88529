"""Event tracking, from the public page's request to the figures the founder reads.

- `visit`: who is visiting (the visitor, preview and channel cookies, bots, the traffic kind) and
  the `Visit`, one per request of a public page;
- `buffer`: the event, the per-process outbox sent to the Redis buffer, the database fallback;
- `ingest`: the worker's step 1, the buffer into `Event` rows;
- `rollup`: the worker's step 2, rows into the daily rollups and the experiments' exposures;
- `worker`: the worker's loop, pruning, and the backlog.

The pure rules they use live in `projects.analysis` (`channels`, `assignment`).
"""
