from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from opinions.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="opinions:theme-index"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("opinions.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

# A database outage raised outside a view gets the 503 page too (portal/views.py).
handler500 = "portal.views.server_error"
