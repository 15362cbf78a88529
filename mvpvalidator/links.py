"""The site's own address in absolute links, decided in one place.

Two rules, because the two kinds of link travel differently:

- an email's links (`email_base_url`) go to whoever owns the address typed into a form, so in
  production they never come from the request: a forged Host header would put an attacker's site,
  with the tokens, into someone else's mailbox. Only a development server on this machine (DEBUG,
  no PUBLIC_BASE_URL, a loopback host) uses the address it was reached on, so its links work;
- links shown back to the requester (`site_origin`: share cards, QR codes, the public link in the
  editor) go to nobody else, so without PUBLIC_BASE_URL the address the request reached (its Host
  checked against ALLOWED_HOSTS by `get_host`) is the honest answer.
"""

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def development_base_url(request: HttpRequest) -> str:
    """This development server's own scheme, host and port, or "" (production, PUBLIC_BASE_URL
    set, or a Host header that is not this machine's)."""
    if not settings.DEBUG or settings.PUBLIC_BASE_URL_SET:
        return ""
    host = request.get_host()
    if split_domain_port(host)[0] not in LOOPBACK_HOSTS:
        return ""
    return f"{request.scheme}://{host}"


def email_base_url(request: HttpRequest) -> str:
    """Where an email's links point: PUBLIC_BASE_URL, or a development server's own address."""
    return development_base_url(request) or str(settings.PUBLIC_BASE_URL)


def site_origin(request: HttpRequest) -> str:
    """The origin of absolute links shown to the requester: PUBLIC_BASE_URL when set, else the
    address this request reached."""
    if settings.PUBLIC_BASE_URL_SET:
        return str(settings.PUBLIC_BASE_URL)
    return f"{request.scheme}://{request.get_host()}"
