"""The client's address: the one answer for everything that limits or locks by address (django-axes' login
lockout, the join-guess, resume-code and new-participant limits in experiment/throttle.py).

Behind the proxy every request comes from the proxy, so the client is read from X-Forwarded-For; but only when the
request does come from a proxy named in TRUSTED_PROXIES, and only the entry the last of TRUSTED_PROXY_COUNT
proxies wrote: whatever a client puts in the header itself comes before that, and a client that reaches the app
directly is its own address whatever it sends.
"""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as the nearest trusted proxy saw it."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops or not _is_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    # Each proxy appends the address it was reached from; the last one is REMOTE_ADDR itself, so the client is the
    # entry ``hops`` from the end. A shorter header means a proxy in the chain did not append: keep the proxy's own.
    if len(forwarded) < hops:
        return remote
    try:
        return str(ip_address(forwarded[-hops]))
    except ValueError:
        return remote


def _is_trusted_proxy(remote: str) -> bool:
    try:
        address = ip_address(remote)
    except ValueError:
        return False
    return any(address in network for network in settings.TRUSTED_PROXIES)
