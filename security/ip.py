"""The client's address: REMOTE_ADDR, unless it is a trusted proxy, in which case the
`X-Forwarded-For` chain is walked from the right past every trusted proxy. With no trusted
proxies (the default) a forged `X-Forwarded-For` changes nothing."""

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.0/8`, `192.0.2.7` (a single host) ... Raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v and v.strip())


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def in_networks(value: str, networks: tuple[Network, ...]) -> bool:
    address = _address(value)
    return address is not None and any(address in net for net in networks)


@lru_cache(maxsize=4096)
def _normalised(value: str) -> str:
    address = _address(value)
    return str(address) if address is not None else ""


def client_ip(meta: Mapping[str, str], trusted: tuple[Network, ...]) -> str:
    remote = _normalised(meta.get("REMOTE_ADDR", ""))
    if not trusted or not in_networks(remote, trusted):
        return remote
    hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _normalised(hop)
        if not address:  # a malformed hop: trust nothing further left of it
            return remote
        if not in_networks(address, trusted):
            return address
    return _normalised(hops[0]) if hops else remote
