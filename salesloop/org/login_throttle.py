"""Login throttling: too many failed logins for one username from one address lock it for a while.

Why a small cache-based throttle rather than a package: the rule is simple (N failures per
username + IP within a window → locked for the window), it must not get in the way of the test
client's ``login()``, and both numbers are settings (``LOGIN_THROTTLE_FAILURES``,
``LOGIN_THROTTLE_WINDOW_SECONDS``). With several server processes the cache must be shared
(``CACHES``: database, Redis or Memcached); the default local-memory cache counts per process.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_PREFIX = "login-throttle"


def _limits() -> tuple[int, int]:
    return settings.LOGIN_THROTTLE_FAILURES, settings.LOGIN_THROTTLE_WINDOW_SECONDS


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(kind: str, username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}\x00{ip}".encode()).hexdigest()
    return f"{_PREFIX}:{kind}:{digest}"


def seconds_locked(username: str, ip: str) -> int:
    """Seconds left on the lock for this username and address (0 when not locked)."""
    until = cache.get(_key("lock", username, ip))
    if until is None:
        return 0
    return max(0, math.ceil(until - time.time()))


def record_failure(username: str, ip: str) -> int:
    """Count a failed login; lock the pair once the count reaches the limit. Returns the count."""
    limit, window = _limits()
    key = _key("fail", username, ip)
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    if failures >= limit:
        cache.set(_key("lock", username, ip), time.time() + window, timeout=window)
        cache.delete(key)
    return failures


def reset(username: str, ip: str) -> None:
    cache.delete_many([_key("fail", username, ip), _key("lock", username, ip)])
