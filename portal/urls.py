from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language

from opinions.views import healthz
from portal.views import PasswordChangeView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="opinions:theme-index"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("", include("opinions.urls")),
    path("admin/", admin.site.urls),
    # Sign-in, sign-out and password change; no self-service password reset (README, Security).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The display-language switch posts here from every page. Exempt from CSRF: a forged
    # language choice harms nobody, and without a token in the switch anonymous pages can
    # be cached whole (opinions/browsing/caching.py).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
]

# A database outage raised outside a view gets the 503 page too (portal/views.py).
handler500 = "portal.views.server_error"
