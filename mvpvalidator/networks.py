"""IP networks as the settings spell them (`10.0.0.0/8`, `192.0.2.7` for one host). Project
infrastructure with no Django in it, so the settings module parses `TRUSTED_PROXIES` and
`SECURITY_ALLOWLIST` with the same rule the security layer uses, without importing an app."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.0/8`, `192.0.2.7` (a single host) ... Raises ValueError on anything else."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v and v.strip())
