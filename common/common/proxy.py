"""Who the client is, and how it came, when a request comes through the gateway (ARCHITECTURE.md, Edge).

The gateway (HAProxy) sets ``X-Forwarded-For`` to the client's address and ``X-Forwarded-Proto`` to ``https``.
A service believes them only from an address in ``TRUSTED_PROXIES`` (``DJANGO_TRUSTED_PROXIES``: addresses or
networks, loopback by default): then ``REMOTE_ADDR`` becomes the client's address (so throttles and lockouts
count real clients) and the request is secure (``SECURE_PROXY_SSL_HEADER``). From anyone else both headers are
dropped before anything reads them, so a client cannot claim another address or the https scheme.
"""

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]

    def trusted(self, address: str) -> bool:
        peer = _address(address)
        return peer is not None and any(peer in network for network in self.proxies)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if self.trusted(meta.get("REMOTE_ADDR", "")):
            # The gateway's own entry is the last one (it drops what the client sent; another proxy may add).
            client = meta.pop("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
            if _address(client) is not None:
                meta["REMOTE_ADDR"] = client
        else:
            for name in FORWARDED_HEADERS:
                meta.pop(name, None)
        return self.get_response(request)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
