from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from . import throttle


class ThrottledModelBackend(ModelBackend):
    """Username and password, refused while the account or the address is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = username or kwargs.get("username") or ""
        if password is None:
            return None
        # Counted before the password is checked: concurrent attempts cannot pass the limit.
        if not throttle.begin_attempt(username, request):
            if request is not None:
                request.sign_in_locked = True
            # PermissionDenied stops Django trying other backends: the answer is "locked".
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            throttle.succeeded(username, request)
        return user


class ThrottledTokenAuthentication(TokenAuthentication):
    """
    API tokens: wrong tokens count against the address and, past the limit, refuse further token
    attempts from it. A request without a token (a signed-in session) is not this class's to judge.
    """

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None
        if throttle.tokens_locked(request):
            raise exceptions.Throttled(
                detail=_("Too many wrong API tokens from your address. Try again later.")
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_token_failure(request)
            raise
