"""JWT authentication whose user lookup is served from the cache.

simplejwt loads the user with one query on every request; on the API's hottest reads that
query is a large share of the cost. The identity is cached under the account's namespace,
which every change to the account bumps (see `security.signals`), so deactivation takes
effect on the very next request. The token's version is compared with the loaded user's
(`security.tokens`): a password change, deactivation or logout ends the token with no
query added.
"""

from typing import cast

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from monitoring.interface import bind_context
from security import audit, selectors, tokens
from security.models import User


class CachedJWTAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Token] | None:  # type: ignore[override]
        """simplejwt's; a token that is not valid is refused here, and recorded as such."""
        try:
            return cast(tuple[User, Token] | None, super().authenticate(request))
        except InvalidToken:
            audit.invalid_token(request)
            raise

    def get_validated_token(self, raw_token: bytes) -> Token:
        """simplejwt's, except that an expired token says so (`token_expired`) rather than
        "not valid for any token type", so the client knows to refresh it."""
        messages = []
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                return cast(Token, token_class(raw_token))
            except ExpiredTokenError as exc:
                raise tokens.TokenExpired("The access token has expired; refresh it.") from exc
            except TokenError as exc:
                messages.append({"token_class": token_class.__name__, "token_type": token_class.token_type,
                                 "message": exc.args[0]})  # fmt: skip
        raise InvalidToken({"detail": _("Given token not valid for any token type"), "messages": messages})

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]  # ours, not a TokenUser
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc  # type: ignore[arg-type]
        try:
            user = selectors.user_get_for_auth(user_id=user_id)
        except User.DoesNotExist as exc:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc  # type: ignore[arg-type]
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")  # type: ignore[arg-type]
        tokens.check_version(validated_token, user)
        bind_context(user_id=user.pk)
        return user


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication; a failed CSRF check is a refusal (403), recorded as one."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            audit.permission_denied(request)
            raise
