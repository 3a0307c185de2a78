"""Limit join-code guessing per browser and per address, without ever counting a right code.

Counters live in the cache under keyed hashes, so no address is stored anywhere, not even in the cache.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address; behind TRUSTED_PROXY_COUNT proxies, the one they saw (from X-Forwarded-For)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"join-guess:{kind}:{digest[:32]}"


def _keys(request: HttpRequest) -> list[tuple[str, int]]:
    if request.session.session_key is None:
        request.session.save()
    return [
        (_key("browser", request.session.session_key), settings.JOIN_GUESS_LIMIT_PER_BROWSER),
        (_key("address", client_address(request)), settings.JOIN_GUESS_LIMIT_PER_ADDRESS),
    ]


def is_blocked(request: HttpRequest) -> bool:
    """True once this browser or this address has guessed wrong too often in the window."""
    counts = cache.get_many([key for key, _limit in _keys(request)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request))


def record_wrong_code(request: HttpRequest) -> None:
    for key, _limit in _keys(request):
        if cache.add(key, 1, timeout=settings.JOIN_GUESS_WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=settings.JOIN_GUESS_WINDOW_SECONDS)
