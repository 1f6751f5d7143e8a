from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language

from opinions.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="opinions:theme-index"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("opinions.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The display-language switch posts here from every page. Exempt from CSRF: a forged
    # language choice harms nobody, and without a token in the switch anonymous pages can
    # be cached whole (opinions/caching.py).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
]

# A database outage raised outside a view gets the 503 page too (portal/views.py).
handler500 = "portal.views.server_error"
