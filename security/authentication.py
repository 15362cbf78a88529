"""JWT authentication whose user lookup is served from the cache.

simplejwt loads the user with one query on every request; on the API's hottest reads that
query is a large share of the cost. The identity is cached under the account's namespace,
which every change to the account bumps (see `security.signals`), so deactivation takes
effect on the very next request. The token's version is compared with the loaded user's
(`security.tokens`): a password change, deactivation or logout ends the token with no
query added.

The signature of an access token is checked once per process (`_VerifiedTokens`): a client sends
the same token on every request of its quarter of an hour, and its expiry is still checked on
each one. What ends a token before it expires (the account's version, its active flag) is checked
on every request against the identity, never from this memory.
"""

import threading
import time
from collections import OrderedDict
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from monitoring.interface import bind_context
from mvpvalidator import background
from security import audit, selectors, tokens
from security.models import User


class _VerifiedTokens:
    """The payloads of the access tokens this process verified lately, by the token's exact bytes.

    Only a token whose signature and claims were verified is kept, under its full text (a
    token's text is its signature: a forged or altered one is never found here and is verified,
    and refused, as usual). Each hit checks the expiry again, with the same leeway as the
    verification, and builds a fresh token for the request (nothing mutable is shared)."""

    MAX_TOKENS = 4096  # a client's token is used for its lifetime; the oldest go first

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # token text -> (its class, its payload, the time past which it has expired)
        self._tokens: OrderedDict[bytes, tuple[type[Token], dict[str, Any], float]] = OrderedDict()

    def get(self, raw_token: bytes) -> Token | None:
        with self._lock:
            found = self._tokens.get(raw_token)
            if found is None:
                return None
            token_class, payload, expires_at = found
            if expires_at <= time.time():
                del self._tokens[raw_token]  # verified again by the caller, which says it expired
                return None
            self._tokens.move_to_end(raw_token)
        token = token_class.__new__(token_class)  # what Token.__init__ leaves, without decoding again
        token.token = cast(Any, raw_token)  # simplejwt types it as a Token; it holds the encoded token
        token.current_time = aware_utcnow()
        token.payload = dict(payload)
        return token

    def add(self, raw_token: bytes, token: Token) -> None:
        # As the verification reads it: expired once `exp` is more than the leeway in the past.
        expires_at = float(token.payload["exp"]) + token.get_token_backend().get_leeway().total_seconds()
        with self._lock:
            self._tokens[raw_token] = (type(token), dict(token.payload), expires_at)
            while len(self._tokens) > self.MAX_TOKENS:
                self._tokens.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


verified_tokens = _VerifiedTokens()
# Tests change keys and clocks: each starts with none verified.
background.register("security.verified_tokens", reset=verified_tokens.clear)


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
        known = verified_tokens.get(raw_token)
        if known is not None:
            return known
        messages = []
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                token = cast(Token, token_class(raw_token))
                verified_tokens.add(raw_token, token)
                return token
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
