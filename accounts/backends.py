from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import throttle


class ThrottledModelBackend(ModelBackend):
    """Username and password, refused while the account or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username or kwargs.get("username") or ""
        if throttle.is_locked(username, request):
            # PermissionDenied stops Django trying other backends: the answer is "locked".
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.record_failure(username, request)
        else:
            throttle.clear(username, request)
        return user


class ThrottledTokenAuthentication(TokenAuthentication):
    """API tokens: wrong tokens count against the address like wrong passwords."""

    def authenticate(self, request):
        if throttle.address_locked(request):
            raise exceptions.Throttled(detail="Too many failed sign-in attempts. Try again later.")
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_address_failure(request)
            raise
