"""
Sign-in throttling: after too many failures for one account or from one address, further
attempts are refused for a while, whichever way they come (login page, API token, admin).
Requests for a password reset link are counted the same way, per e-mail address asked for and
per client address, so that nobody can flood a mailbox or the mail server.

Counters live in the cache (Redis in production, so every web process shares them) and grow with
an atomic increment. An attempt is counted before its password is checked, and given back when it
succeeds: concurrent attempts therefore cannot slip past the limit, and no more than
FAILURES_PER_ACCOUNT passwords are ever checked for one account in a window. Wrong API tokens are
counted apart from passwords: they lock out further token attempts from that address, never
sign-in with a password nor a signed-in session. When the shared cache is unreachable, sign-in
keeps working: the counters fall back to this process's memory (still a limit, per process) until
the cache answers again.

The same counters bound how often one user may do something (`take`), e.g. how many requests a
customer files in an hour.
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


def _increment(key: str, by: int = 1, *, window: int = WINDOW_SECONDS) -> int:
    """Add `by` to the counter and answer its new value, atomically."""
    # add() creates the counter with its expiry only if absent; incr() is atomic.
    _shared("add", key, 0, timeout=window)
    try:
        return _shared("incr", key, by)
    except ValueError:
        _shared("set", key, by, timeout=window)
        return by


def _decrement(key: str, by: int = 1) -> None:
    try:
        _shared("decr", key, by)
    except ValueError:
        pass  # the counter expired meanwhile: nothing to give back


def is_locked(username: str, request) -> bool:
    keys = _keys(username, request)
    return _count(keys.account) >= FAILURES_PER_ACCOUNT or _count(keys.address) >= FAILURES_PER_ADDRESS


def begin_attempt(username: str, request, *, per_address: bool = True) -> bool:
    """
    Count one attempt at the account's password before it is checked, and answer whether it may
    be checked: False (and not counted) once the account, or the address when `per_address`, has
    used up its failures. A checked attempt stays counted as a failure unless `succeeded()`.
    """
    keys = _keys(username, request)
    counted = [(keys.account, FAILURES_PER_ACCOUNT)]
    if per_address:
        counted.append((keys.address, FAILURES_PER_ADDRESS))
    values = [(key, limit, _increment(key)) for key, limit in counted]
    if any(value > limit for _key, limit, value in values):
        for key, _limit, _value in values:
            _decrement(key)
        return False
    return True


def succeeded(username: str, request, *, per_address: bool = True) -> None:
    """The password was right: the account starts afresh and the address gets its attempt back."""
    keys = _keys(username, request)
    _shared("delete", keys.account)
    if per_address:
        _decrement(keys.address)


def _token_key(request) -> str:
    # Apart from the sign-in counters: wrong tokens never lock out passwords or sessions.
    return f"token-fail:addr:{client_address(request)}"


def record_token_failure(request) -> None:
    """A wrong API token: counts against the address, for token attempts only."""
    _increment(_token_key(request))


def tokens_locked(request) -> bool:
    return _count(_token_key(request)) >= FAILURES_PER_ADDRESS


def take(key: str, *, limit: int, count: int = 1, window: int) -> bool:
    """
    Count `count` uses of `key` in a window of `window` seconds from the first, atomically;
    False (and not counted) when they would pass `limit`.
    """
    if _increment(f"quota:{key}", count, window=window) > limit:
        _decrement(f"quota:{key}", count)
        return False
    return True


def give_back(key: str, *, count: int = 1) -> None:
    """Uses counted by `take` that did not happen after all (the act was refused)."""
    _decrement(f"quota:{key}", count)


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
