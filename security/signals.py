"""Keep cached identities fresh: any saved or deleted account bumps its namespace.

A signal rather than a call in each service because accounts are also changed by the admin,
`createsuperuser`, `changepassword` and Django's auth views, which no service of ours wraps.
Queryset `.update()` bypasses signals: code that bulk-updates users must bump `user:<id>`
itself (the `account` family's TTL bounds the staleness otherwise).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from security.cache import invalidate_user_on_commit
from security.models import User


@receiver(post_save, sender=User, dispatch_uid="security.user_saved")
def user_saved(
    sender: type[User], instance: User, update_fields: frozenset[str] | None = None, **kwargs: object
) -> None:
    # A login stamps `last_login` only; that must not throw away the account's cached projects.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    invalidate_user_on_commit(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="security.user_deleted")
def user_deleted(sender: type[User], instance: User, **kwargs: object) -> None:
    invalidate_user_on_commit(instance.pk)
