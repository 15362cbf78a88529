"""The JWTs this platform issues: simplejwt's, with the account's token version in them.

`User.token_version` goes up whenever every session and token of an account must end: a new
password (any path: it is bumped in `User.set_password`), a deactivation, a logout. Both tokens
carry the version they were issued under; the authentication class compares it with the version
of the user it loads anyway (cached, so no query is added) and the refresh endpoint with the
stored one, so all of the account's tokens stop working at once. A token without the claim
(issued before it existed) counts as version 0, the version every account starts at.

Errors say what happened, in the API's error shape: `token_expired` for an expired access or
refresh token, `token_revoked` for one issued before the account's last password change,
deactivation or logout, `token_not_valid` for anything else.
"""

from typing import Any, cast

from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import RefreshToken, Token

from security.models import User

TOKEN_VERSION_CLAIM = "ver"  # noqa: S105 - a claim name, not a secret


class TokenExpired(InvalidToken):
    default_detail = "The token has expired."  # type: ignore[assignment]  # a str where DRF has a lazy one
    default_code = "token_expired"


class TokenRevoked(InvalidToken):
    default_detail = "The token was revoked by a password change, a deactivation or a logout; sign in again."  # type: ignore[assignment]
    default_code = "token_revoked"


class VersionedRefreshToken(RefreshToken):
    """A refresh token (and the access tokens made from it) carrying the account's version."""

    @classmethod
    def for_user(cls, user: Any) -> "VersionedRefreshToken":
        token = cast("VersionedRefreshToken", super().for_user(user))  # simplejwt builds a `cls()`
        token[TOKEN_VERSION_CLAIM] = user.token_version
        return token


def token_version(token: Token) -> int:
    value = token.get(TOKEN_VERSION_CLAIM, 0)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidToken("Token is invalid")
    return value


def check_version(token: Token, user: User) -> None:
    """Refuse a token issued before the account's sessions were last ended."""
    if token_version(token) != user.token_version:
        raise TokenRevoked()
