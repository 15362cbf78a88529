"""Unhandled exceptions of a request become error groups (and may alert)."""

import contextlib
import sys
from typing import Any

from monitoring import alert_rules, context, errors
from mvpvalidator.db import database_unreachable


def request_failed(sender: Any, request: Any = None, **kwargs: Any) -> None:
    exc = sys.exception()
    if exc is None:
        return
    ctx = context.current()
    away = database_unreachable(exc)
    if ctx is not None:
        ctx.database_away = ctx.database_away or away
    # With the database away, asking it for the user would only wait out the pool once more.
    if ctx is not None and ctx.user_id is None and request is not None and not away:
        # Worth a query on the error path (the user is lazy until a view asks); if the
        # database is what failed, the group is filed without the user.
        with contextlib.suppress(Exception):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                ctx.user_id = user.pk
    group = errors.record_exception(exc, handled=False)
    alert_rules.error_recorded(group)
