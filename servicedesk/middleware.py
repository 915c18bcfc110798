from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext


class LanguageMiddleware:
    """
    Activate the language the user chose with the language switch, else the site default.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: the users are
    Chinese service teams on machines often set up in English, and zh-hans is the product's default.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


class ContentSecurityPolicyMiddleware:
    """
    Send a Content Security Policy on every response: scripts only from our own origin, never
    inline, so that text a user typed can never run as a script even if escaping failed.
    Styles may be inline (htmx and the API docs set style attributes); nothing loads from elsewhere.
    """

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


class RequestGuardMiddleware:
    """
    Refuse, before anything reads them, requests no page or API can answer sensibly: a body larger
    than the limits (413), a NUL character in the address (404: no record's key has one) or in a
    query parameter (400: no text here can hold one, and PostgreSQL refuses it). Under /api/ the
    answer is JSON, elsewhere a page that says why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404
        too_large = self._too_large(request)
        if too_large:
            return refusal(request, too_large, status=413)
        if any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            message = gettext("A query parameter contains a NUL character: remove it and ask again.")
            return refusal(request, message, status=400)
        return self.get_response(request)

    @staticmethod
    def _too_large(request) -> str:
        """Why the body is too large to read, or "" when it is not (the length it announces)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return ""  # Django reads no body of an unreadable length
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        # Uploads stream to disk and are checked file by file; everything else is read into memory.
        limit = settings.REQUEST_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length <= limit:
            return ""
        return gettext("The request is %(size)s; at most %(limit)s is accepted.") % {
            "size": filesizeformat(length),
            "limit": filesizeformat(limit),
        }


class PrivateCacheMiddleware:
    """
    What a signed-in user is shown, and every answer of the API, is private: no shared cache (a
    proxy) may keep it, nor the browser on disk after the session ends. Static files are served
    before this middleware (WhiteNoise) and keep their long caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path_info.startswith("/api/") or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response


def refusal(request, message: str, *, status: int) -> HttpResponse:
    """A refused request: `{"detail": message}` under /api/, else a page that gives the message."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "refused.html", {"message": message}, status=status)
