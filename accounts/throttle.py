"""
Sign-in throttling: after too many failures for one account or from one address, further
attempts are refused for a while, whichever way they come (login page, API token, admin).
Requests for a password reset link are counted the same way, per e-mail address asked for and
per client address, so that nobody can flood a mailbox or the mail server.

Counters live in the cache (Redis in production, so every web process shares them) and grow with
an atomic increment, so concurrent attempts cannot slip past the limit. When the shared cache is
unreachable, sign-in keeps working: the counters fall back to this process's memory (still a
limit, per process) until the cache answers again.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

log = logging.getLogger(__name__)

_local = LocMemCache("login-throttle-fallback", {"TIMEOUT": None, "OPTIONS": {"MAX_ENTRIES": 10000}})

FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
RESETS_PER_EMAIL = 3
RESETS_PER_ADDRESS = 10
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Keys:
    account: str
    address: str


def client_address(request) -> str:
    """
    The address to count against. A forwarding header is believed only when the deployment says
    how many proxies stand in front (TRUSTED_PROXY_COUNT); a client cannot pick its own address.
    """
    if request is None:
        return "unknown"
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def _hashed(name: str) -> str:
    """A username or e-mail address as a cache key part: case and surrounding spaces ignored."""
    return hashlib.sha256((name or "").strip().lower().encode()).hexdigest()[:32]


def _keys(username: str, request) -> Keys:
    return Keys(
        account=f"login-fail:user:{_hashed(username)}", address=f"login-fail:addr:{client_address(request)}"
    )


def _shared(operation: str, *args, **kwargs):
    """Run a cache operation on the shared cache, or on the local fallback when it is down."""
    try:
        return getattr(cache, operation)(*args, **kwargs)
    except ValueError:
        raise  # incr() of a missing key: the caller handles it
    except Exception:
        log.warning("throttle: shared cache unreachable, counting in process memory", exc_info=True)
        return getattr(_local, operation)(*args, **kwargs)


def _count(key: str) -> int:
    return _shared("get", key, 0)


def _increment(key: str) -> None:
    # add() creates the counter with its expiry only if absent; incr() is atomic.
    _shared("add", key, 0, timeout=WINDOW_SECONDS)
    try:
        _shared("incr", key)
    except ValueError:
        _shared("set", key, 1, timeout=WINDOW_SECONDS)


def is_locked(username: str, request) -> bool:
    keys = _keys(username, request)
    return _count(keys.account) >= FAILURES_PER_ACCOUNT or _count(keys.address) >= FAILURES_PER_ADDRESS


def record_failure(username: str, request) -> None:
    keys = _keys(username, request)
    _increment(keys.account)
    _increment(keys.address)


def record_address_failure(request) -> None:
    """A failure with no account to name (a wrong API token): counts against the address only."""
    _increment(_keys("", request).address)


def address_locked(request) -> bool:
    return _count(_keys("", request).address) >= FAILURES_PER_ADDRESS


def clear(username: str, request) -> None:
    _shared("delete", _keys(username, request).account)


def allow_reset_request(email: str, request) -> bool:
    """
    Count a request for a password reset link; False (and not counted) when the e-mail address
    or the client address has asked too often in the last WINDOW_SECONDS.
    """
    keys = Keys(account=f"reset:mail:{_hashed(email)}", address=f"reset:addr:{client_address(request)}")
    if _count(keys.account) >= RESETS_PER_EMAIL or _count(keys.address) >= RESETS_PER_ADDRESS:
        return False
    _increment(keys.account)
    _increment(keys.address)
    return True
