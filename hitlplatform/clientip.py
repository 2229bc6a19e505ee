"""The client's address, for the login lockout and the audit trail.

Behind a TLS proxy every request comes from the proxy, so REMOTE_ADDR would put all users behind
one address. A forwarding header is believed only when configured (CLIENT_IP_HEADER) and only
from the proxies named in TRUSTED_PROXIES (when set): anyone else could write the header.
For X-Forwarded-For the address is taken CLIENT_IP_PROXY_COUNT entries from the right, the one
the outermost trusted proxy saw; entries further left are the client's claims.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    header = settings.CLIENT_IP_HEADER
    if not header or not _trusted(remote):
        return remote
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    hops = [hop.strip() for hop in value.split(",") if hop.strip()]
    count = max(1, settings.CLIENT_IP_PROXY_COUNT)
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _trusted(remote: str) -> bool:
    if not settings.TRUSTED_PROXIES:
        return True
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.TRUSTED_PROXIES)
