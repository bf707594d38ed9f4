"""Who is calling: the peer's address, or the client behind a proxy the operator trusts."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """'10.0.0.1, 10.1.0.0/16' → networks; ValueError naming the entry that is not an address."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write hops: `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The address to throttle and log.

    X-Forwarded-For is believed only when the peer is a trusted proxy; then the nearest hop that is
    not itself a trusted proxy is the client (hops further left can be forged by the client).
    """
    if not peer:
        return "unknown"
    if not _trusted(peer, proxies) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return peer  # a garbled header from behind our proxy: the proxy is all we know
        if not _trusted(hop, proxies):
            return str(_address(hop))
    return str(_address(hops[0])) if hops else peer
