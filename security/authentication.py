"""JWT authentication whose user lookup is served from the cache.

simplejwt loads the user with one query on every request; on the API's hottest reads that
query is a large share of the cost. The identity is cached under the account's namespace,
which every change to the account bumps (see `security.signals`), so deactivation takes
effect on the very next request.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from monitoring import context
from security import selectors
from security.models import User


class CachedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        try:
            user = selectors.user_get_for_auth(user_id=user_id)
        except User.DoesNotExist as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        context.bind(user_id=user.pk)
        return user
