"""Cache namespaces of the identity domain: the one place their key names are built.

`user:<id>` is the root of everything cached for one account (its authenticated identity here,
its projects in `projects.cache`). Any change to the account bumps it after the change commits,
so a deactivated or demoted user loses access on the next request.
"""

from django.db import transaction

from mvpvalidator import cache as app_cache

# The authenticated identity of an API request: read on every JWT request, changed rarely.
ACCOUNT = app_cache.register_family(app_cache.Family("account", "DEFAULT_CACHE_TTL_SECONDS"))


def user_ns(user_id: int) -> str:
    return f"user:{user_id}"


def invalidate_user_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: app_cache.bump(user_ns(user_id)))


def events_ns() -> str:
    """The security events as a whole: bumped when events are deleted (the hours a process keeps
    counted, `selectors.events_by_hour`, are then read again)."""
    return "security-events"


def invalidate_events_on_commit() -> None:
    transaction.on_commit(lambda: app_cache.bump(events_ns()))
