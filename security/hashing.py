"""Keyed hashes for identifiers we must count but must not keep (visitor ids, addresses)."""

import hashlib
import hmac

from django.conf import settings


def hash_identifier(value: str, *, purpose: str = "visitor") -> str:
    """A stable, non-reversible id: HMAC-SHA256 keyed by PASSWORD_SALT, per purpose."""
    if not value:
        return ""
    key = f"{settings.PASSWORD_SALT}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
