"""Limits per client address: wrong join codes, wrong participant codes, new participants in a session.

Each limit counts in the default cache, which every worker and replica shares when REDIS_URL is set: a window of
fixed length that starts at an address's first count, an atomic increment per count, so the limit holds across
processes. Only wrong codes and consents are counted, and a right code is never refused. The keys are keyed
hashes: no address is stored, not even in the cache. Nothing here touches Django's session, so an anonymous
request writes no session row.

If the cache cannot be reached the limits let everything through: a lab in progress must go on. The outage is
logged once when it starts and once when it ends, in each process.
"""

import hashlib
import hmac
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from config.client import client_address
from experiment.models import LabSession

log = logging.getLogger(__name__)

JOIN = "join"
RESUME = "resume"

# Per process: whether the last count failed, so that an outage is logged once, not once per request.
_cache_down = False


def wrong_code(request: HttpRequest, kind: str) -> bool:
    """Count a wrong join code (``JOIN``) or participant code (``RESUME``) from this request's address; True when
    the address is now past its limit and should be answered 429."""
    limit = settings.JOIN_GUESS_LIMIT_PER_ADDRESS if kind == JOIN else settings.RESUME_GUESS_LIMIT_PER_ADDRESS
    count = _count(_key(kind, client_address(request)), settings.JOIN_GUESS_WINDOW_SECONDS)
    return count > limit


def new_participant(request: HttpRequest, session: LabSession) -> bool:
    """Count a new participant (or a declined consent) in ``session`` from this request's address; True when the
    address is past the session's limit and should be answered 429 instead."""
    limit = session.new_participants_per_address or settings.NEW_PARTICIPANTS_PER_ADDRESS
    key = _key(f"consent:{session.pk}", client_address(request))
    return _count(key, settings.NEW_PARTICIPANTS_WINDOW_SECONDS) > limit


def _key(kind: str, address: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{address}".encode(), hashlib.sha256).hexdigest()
    return f"limit:{kind}:{digest[:32]}"


def _count(key: str, window: int) -> int:
    """The count after this one, or 0 when the cache is unreachable (so no limit is ever reached)."""
    global _cache_down
    try:
        if cache.add(key, 1, timeout=window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window ended between add and incr: this count opens the next one
                cache.add(key, 1, timeout=window)
                count = 1
    except Exception as error:  # whatever the backend raises (redis: ConnectionError, TimeoutError, ...)
        if not _cache_down:
            log.error("Limits are off: their cache cannot be reached (%s: %s).", type(error).__name__, error)
            _cache_down = True
        return 0
    if _cache_down:
        log.warning("Limits are on again: their cache answers.")
        _cache_down = False
    return count
