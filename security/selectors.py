"""Reads of the identity domain."""

from mvpvalidator import cache as app_cache
from security import cache as keys
from security.models import User

# Loaded for an authenticated request and cached. The password hash is left out on purpose:
# it never goes to the shared cache, and the instance built from the cached values treats it
# as a deferred field (read from the database only if something asks for it, and left alone
# by `save()`).
# `Model.from_db` takes the values in the model's field order, so the list follows it.
AUTH_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


def user_get_for_auth(*, user_id: int) -> User:
    """The user behind a token, cached under `user:<id>`; raises `User.DoesNotExist`.

    The cache holds plain field values and every call builds a fresh instance, so requests
    never share a mutable model object.
    """

    def compute() -> tuple:
        return User.objects.filter(pk=user_id).values_list(*AUTH_FIELDS).get()

    values = app_cache.get_or_set(keys.ACCOUNT, ("auth", user_id), compute, namespaces=[keys.user_ns(user_id)])
    return User.from_db(User.objects.db, list(AUTH_FIELDS), list(values))
