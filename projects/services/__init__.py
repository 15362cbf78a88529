"""Writes of the projects domain, one module per subject (`projects`, `prototypes`, `pages`,
`signups`, `experiments`, `campaigns`, `reports`): import each service from its subject module.

One transaction per service, validation before saving. Status moves are checked against the
state machines the models declare (`projects.services.transitions`): a move the current state
does not allow raises `ConflictError` (409) and writes nothing.
"""
