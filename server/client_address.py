"""The address a request came from, as the rate limits count it (F9 item 8).

``X-Forwarded-For`` is written by whoever sends the request: a client that sets it to a new value
each time must not become a new client each time, or every per-address limit (sign-in, public
look-ups, registration) is bypassed. So it is read only as far as it was written by the proxies in
front of us (``TRUSTED_PROXIES``): each one appends the address it received from, and the client
is the right-most address that is not one of ours. Without trusted proxies it is never read.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    return address is not None and any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """``REMOTE_ADDR`` unless it is a trusted proxy; then the right-most address of
    ``X-Forwarded-For`` that is not a trusted proxy. An entry that is no address (a proxy that
    passed the client's header on without appending to it) ends the walk at the last proxy seen:
    whatever lies left of it was written by the client."""
    remote = request.META.get("REMOTE_ADDR", "")
    hop = _address(remote)
    if not _trusted(hop):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",") if forwarded else []):
        address = _address(entry)
        if address is None:
            break
        hop = address
        if not _trusted(hop):
            break
    return str(hop)
