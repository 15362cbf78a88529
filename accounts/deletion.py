"""What an app must undo when an account is deleted, beyond the database's cascade (cached copies,
stored files). A registry, as `accounts.exports`: each app registers in its AppConfig.ready, so
accounts never imports the domain."""

from collections.abc import Callable

from security.models import User

_hooks: dict[str, Callable[[User], None]] = {}


def register(name: str, fn: Callable[[User], None]) -> None:
    _hooks[name] = fn


def before_delete(user: User) -> None:
    """Run every hook inside the deleting transaction, before the user's row goes: each reads what
    it must forget now and acts once the deletion commits."""
    for fn in _hooks.values():
        fn(user)
