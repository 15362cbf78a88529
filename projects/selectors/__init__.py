"""Reads of the projects domain, one module per subject: `projects`, `prototypes`, `pages`
(the founder's pages and the public page), `signups`, `experiments`, `events` (the rollups'
analytics and daily figures), `campaigns` and `reports`: import each read from its subject
module."""
