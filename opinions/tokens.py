"""API tokens for other systems (django-rest-knox): hashed at rest, shown once, expiring.

A token acts as its user, sent as ``Authorization: Token …``. The database keeps only a
SHA-512 digest and the token's first characters (to find the row), so neither a backup
nor a 管理者 reading the admin can recover one. 管理者 issue them in the admin — the token
is shown once, on the page that follows — and revoke them by deleting them; each expires
after ``API_TOKEN_DAYS`` days unless issued with another lifetime.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.models import AuthToken, get_digest_token
from knox.settings import CONSTANTS
from rest_framework.exceptions import AuthenticationFailed

from .admin_people import person_column

# How many leading characters of a token the admin shows, to tell tokens apart.
SHOWN_CHARACTERS = 6


class ApiTokenAuthentication(TokenAuthentication):
    """knox's authentication with one clear Japanese message for every refused token
    (knox's own are English, and telling "expired" from "wrong" helps no attacker)."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            raise AuthenticationFailed(
                gettext(
                    "トークンが正しくないか、期限が切れているか、取り消されています。"
                    "管理者に新しいトークンの発行を依頼してください。"
                )
            ) from None


class ApiTokenIssueForm(forms.ModelForm):
    LIFETIMES = [(30, _("30日")), (90, _("90日")), (180, _("180日")), (365, _("1年"))]

    lifetime = forms.TypedChoiceField(
        label=_("有効期間"), choices=LIFETIMES, coerce=int, initial=settings.API_TOKEN_DAYS
    )

    class Meta:
        model = AuthToken
        fields = ["user"]

    def save(self, commit=True):
        token = super().save(commit=False)
        token.digest, self.token = get_digest_token()
        token.token_key = self.token[: CONSTANTS.TOKEN_KEY_LENGTH]
        token.expiry = timezone.now() + timedelta(days=self.cleaned_data["lifetime"])
        if commit:
            token.save()
        return token


class ApiTokenAdmin(admin.ModelAdmin):
    """Issue (shown once) and revoke (delete); nothing is ever listed that would let
    anyone use a token."""

    form = ApiTokenIssueForm
    list_display = ["user_name", "shown_start", "created", "expiry", "state"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    raw_id_fields = ["user"]
    ordering = ["-created"]
    user_name = person_column(AuthToken, "user")

    @admin.display(description=_("トークンの先頭"))
    def shown_start(self, token) -> str:
        return f"{token.token_key[:SHOWN_CHARACTERS]}…"

    @admin.display(description=_("状態"))
    def state(self, token) -> str:
        if token.expiry is not None and token.expiry <= timezone.now():
            return gettext("期限切れ")
        return gettext("有効")

    def get_fields(self, request, obj=None):
        return ["user", "lifetime"] if obj is None else ["user_name", "created", "expiry"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user_name", "created", "expiry"]

    def has_change_permission(self, request, obj=None):
        return False  # a token is issued or revoked, never edited

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._issued = form.token

    def response_add(self, request, obj, post_url_continue=None):
        # Shown on this page only: not in a message, which would travel in a cookie.
        return TemplateResponse(
            request,
            "admin/opinions/token_issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("トークンを発行しました"),
                "token": self._issued,
                "holder": obj.user,
                "expiry": obj.expiry,
            },
            headers={"Cache-Control": "private, no-store"},
        )


def register(site: admin.AdminSite) -> None:
    """Our token admin instead of knox's, which lists every token's digest, and DRF's,
    whose tokens were kept in clear (migration 0015 moved them here, hashed)."""
    from rest_framework.authtoken.models import TokenProxy

    for model in (AuthToken, TokenProxy):
        if site.is_registered(model):
            site.unregister(model)
    site.register(AuthToken, ApiTokenAdmin)


class ApiTokenScheme(KnoxTokenScheme):
    """The schema's security scheme for our subclass (drf-spectacular matches classes
    exactly): "Authorization: Token …"."""

    target_class = ApiTokenAuthentication
    name = "apiToken"
