"""Commits inside a test.

pytest-django runs each test inside one transaction that never commits, so the
`transaction.on_commit` callbacks of a write (cache invalidation, block-list sync) would never
run. `committed()` is Django's own `captureOnCommitCallbacks(execute=True)`: the callbacks of the
writes made inside the block run when it ends, as production runs them when the write commits
(and a write that rolled back has none left to run).
"""

from django.test import TestCase


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)
