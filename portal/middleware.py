"""Middleware of the site as a whole."""

from django.conf import settings
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin


class ChosenLanguageMiddleware(MiddlewareMixin):
    """Japanese, unless the user chose another language with the switch in the header.

    Django's LocaleMiddleware would also follow the browser's Accept-Language, so an office
    PC or a test browser set up in English would get English without anyone asking for it.
    Here only the cookie that ``set_language`` sets counts; anything else is Japanese.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        try:
            language = translation.get_supported_language_variant(chosen)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
