"""The client's address: REMOTE_ADDR, unless it is a trusted proxy, in which case the
`X-Forwarded-For` chain is walked from the right past every trusted proxy. With no trusted
proxies (the default) a forged `X-Forwarded-For` changes nothing.

An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) is read as
the IPv4 address. Counters and blocks key a client by `client_key`: the address for IPv4, the
network of `IPV6_CLIENT_PREFIX` bits (a /64 by default) for IPv6, since any ordinary IPv6 client
owns a whole /64 and could otherwise take a fresh address for every request. A block covers a
client or a network staff chose (`block_target`)."""

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from mvpvalidator.networks import Network, parse_networks

__all__ = ["Network", "block_target", "client_ip", "client_key", "in_networks", "parse_networks", "target_network"]


# Cached: a request reads its client's address several times (is the peer a proxy, which hop is
# the client, its key, the allow-list), and a visitor from an address never seen costs one parse.
@lru_cache(maxsize=4096)
def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


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


@lru_cache(maxsize=4096)
def _network_of(value: str, prefix: int) -> str:
    address = _address(value)
    if address is None:
        return ""
    if address.version == 4 or prefix >= 128:
        return str(address)
    return str(ipaddress.IPv6Network((address, prefix), strict=False))


def client_key(value: str, *, ipv6_prefix: int) -> str:
    """What rate limits, lockout counters and blocks count a client by: `192.0.2.1` for IPv4,
    `2001:db8:1:2::/64` for IPv6 (with `ipv6_prefix=64`). Empty for something not an address."""
    return _network_of(value, ipv6_prefix)


def block_target(value: str, *, ipv6_prefix: int) -> str:
    """What a block on `value` covers, in the one spelling the block list stores and looks up.

    An address is blocked as the client it belongs to (`client_key`: the address for IPv4, its
    /64 for IPv6), since a client is counted that way. A network keeps its own spelling
    (`203.0.113.0/24`, `2001:db8::/48`), host bits cleared, unless it is no wider than one client,
    in which case it is that client. IPv4-mapped addresses and networks are read as IPv4.
    Raises ValueError for anything else. Applying it to its own result changes nothing."""
    text = value.strip()
    if "/" not in text:
        key = client_key(text, ipv6_prefix=ipv6_prefix)
        if not key:
            raise ValueError(f"{value!r} is not an IP address or network")
        return key
    network: Network = ipaddress.ip_network(text, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    if network.prefixlen >= (32 if network.version == 4 else ipv6_prefix):
        return client_key(str(network.network_address), ipv6_prefix=ipv6_prefix)
    return str(network)


def target_network(target: str) -> Network:
    """The network a stored block target covers (a single address is a /32 or /128)."""
    return ipaddress.ip_network(target, strict=False)
