"""Response headers the platform adds to every response, prepared once.

`response[name] = value` runs Django's checks on the name and on the value (each encodable, no
newline) and lowercases the name, every time; `name in response` costs three Python calls, and a
raised KeyError when the header is absent. The security layer adds the same constant headers to
every response, and the monitoring middleware asks of every response which of the required ones
it lacks, so both work on the response's header store instead: Django's `ResponseHeaders` keeps a
dict by lowercased name of `(name, value)`. An entry is built once by a `ResponseHeaders` of its
own, so a prepared header is exactly what `response[name] = value` would have stored.
"""

from collections.abc import KeysView, Mapping

from django.http.response import HttpResponseBase, ResponseHeaders

# (lowercased name, (name, value)): one item of the store.
Entry = tuple[str, tuple[str, str]]


def prepare(headers: Mapping[str, str]) -> tuple[Entry, ...]:
    """Headers as store entries, through Django's own checks and encoding (raises as
    `response[name] = value` would on a bad name or value)."""
    return tuple(ResponseHeaders(dict(headers))._store.items())


def store(response: HttpResponseBase) -> dict[str, tuple[str, str]]:
    """The response's headers by lowercased name (written to by `set_default` and `set_value`)."""
    return response.headers._store


def set_default(response: HttpResponseBase, entries: tuple[Entry, ...]) -> None:
    """`response.setdefault(name, value)` for each prepared header: a header already set stays."""
    headers = response.headers._store
    for lower, entry in entries:
        if lower not in headers:
            headers[lower] = entry


def names(response: HttpResponseBase) -> KeysView[str]:
    """The response's header names, lowercased, as a set-like view (`view >= required`)."""
    return response.headers._store.keys()
