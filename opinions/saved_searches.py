"""Saved searches: a signed-in user keeps the list's conditions under a name, finds them on
マイページ, and hears of new remarks that match — by a daily mail (``manage.py
send_search_digests``, run by cron) or a private Atom feed.

Only published remarks are ever matched, whoever saved the search: a mail or a feed
leaves the portal, so nothing pending, returned, hidden or withdrawn may go with it.
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.syndication.views import Feed
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from .browsing.filters import OpinionFilter
from .browsing.selection import clean_query
from .models import Opinion, SavedSearch

# Not conditions: which page, in which order.
NOT_CONDITIONS = ("page", "sort")
DIGEST_LIMIT = 20
FEED_LIMIT = 50


class SavedSearchForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名前"),
        max_length=100,
        error_messages={"required": gettext_lazy("保存する名前を入力してください。")},
    )
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("保存する名前を入力してください。"), code="required")
        return name


def conditions_of(data: QueryDict) -> str:
    """The list's conditions in ``data`` as a clean query string (no page, no sort)."""
    data = data.copy()
    for key in NOT_CONDITIONS:
        data.pop(key, None)
    return clean_query(data)


# --- Reads ---------------------------------------------------------------------------------


def matching(search: SavedSearch):
    """The published remarks the saved conditions select (invalid ones are ignored, as
    the list ignores them), newest first."""
    filterset = OpinionFilter(
        QueryDict(search.query.lstrip("?")), queryset=Opinion.objects.published()
    )
    return filterset.qs.order_by("-created_at", "-pk")


def new_since(search: SavedSearch, since: datetime.datetime):
    """Matching remarks that became public after ``since``: created then, or published
    then by 事務局's review."""
    return matching(search).filter(Q(created_at__gt=since) | Q(reviewed_at__gt=since))


# --- Writes --------------------------------------------------------------------------------


class DuplicateName(Exception):
    """The user already has a saved search of that name."""


@transaction.atomic
def save_search(*, user, name: str, query: str) -> SavedSearch:
    """Save ``query`` (cleaned again: what comes from a form is not trusted) under ``name``."""
    cleaned = conditions_of(QueryDict(query.lstrip("?")))
    try:
        with transaction.atomic():
            return SavedSearch.objects.create(user=user, name=name, query=cleaned)
    except IntegrityError:
        raise DuplicateName(name) from None


@transaction.atomic
def set_alert(search: SavedSearch, *, alert: str) -> SavedSearch:
    """Turn the daily mail on or off; turning it on starts from now (no backlog mail)."""
    search.alert = alert
    if alert == SavedSearch.Alert.DAILY:
        search.notified_until = timezone.now()
    search.save(update_fields=["alert", "notified_until"])
    return search


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """Mail each saved search with the daily alert the remarks published since its last
    mail; returns how many mails were sent. A search with nothing new sends nothing."""
    now = now or timezone.now()
    sent = 0
    searches = SavedSearch.objects.filter(alert=SavedSearch.Alert.DAILY).select_related("user")
    for search in searches.exclude(user__email="").filter(user__is_active=True):
        since = search.notified_until or search.created_at
        found = new_since(search, since).filter(created_at__lte=now)
        remarks = list(found.select_related("theme")[: DIGEST_LIMIT + 1])
        if remarks:
            with translation.override(settings.LANGUAGE_CODE):
                body = render_to_string(
                    "emails/saved_search_digest.txt",
                    {
                        "search": search,
                        "remarks": remarks[:DIGEST_LIMIT],
                        "more": len(remarks) > DIGEST_LIMIT,
                        "base_url": settings.PORTAL_URL,
                    },
                )
                subject = _("【意見ポータル】「%(name)s」に新しい意見があります") % {
                    "name": search.name
                }
            send_mail(subject, body, None, [search.user.email])
            sent += 1
        SavedSearch.objects.filter(pk=search.pk).update(notified_until=now)
    return sent


# --- Views ---------------------------------------------------------------------------------


class SavedSearchCreateView(LoginRequiredMixin, View):
    """Save the list's current conditions (the form on the list posts here)."""

    http_method_names = ["post"]

    def post(self, request):
        form = SavedSearchForm(request.POST)
        query = conditions_of(QueryDict(request.POST.get("query", "").lstrip("?")))
        back = redirect(f"{reverse('opinions:opinion-list')}{query}")
        if not form.is_valid():
            for error in form.errors.get("name", []):
                messages.error(request, error)
            return back
        try:
            save_search(
                user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except DuplicateName:
            messages.error(
                request,
                _("「%(name)s」という名前の検索はもう保存してあります。別の名前にしてください。")
                % {"name": form.cleaned_data["name"]},
            )
            return back
        messages.success(
            request,
            _("この条件を「%(name)s」として保存しました。マイページから開けます。")
            % {"name": form.cleaned_data["name"]},
        )
        return back


class SavedSearchChangeView(LoginRequiredMixin, View):
    """Turn the daily mail on or off, or delete: only the owner's searches are found."""

    http_method_names = ["post"]

    def post(self, request, pk):
        search = get_object_or_404(SavedSearch, pk=pk, user=request.user)
        if request.POST.get("delete"):
            search.delete()
            messages.success(request, _("「%(name)s」を削除しました。") % {"name": search.name})
        else:
            alert = request.POST.get("alert", "")
            if alert not in SavedSearch.Alert.values:
                messages.error(request, _("通知の指定が正しくありません。"))
            else:
                set_alert(search, alert=alert)
                messages.success(
                    request,
                    _("「%(name)s」の通知を「%(alert)s」にしました。")
                    % {"name": search.name, "alert": search.get_alert_display()},
                )
        return redirect("opinions:mypage")


class SavedSearchFeed(Feed):
    """New published remarks matching a saved search, as Atom; the address holds the
    search's secret token (feed readers cannot sign in)."""

    feed_type = Atom1Feed

    def get_object(self, request, token):
        return get_object_or_404(SavedSearch, feed_token=token)

    def title(self, search):
        return _("意見ポータル：%(name)s") % {"name": search.name}

    def link(self, search):
        return search.get_absolute_url()

    def subtitle(self, search):
        return _("保存した検索「%(name)s」に合う、公開された意見の新着です。") % {
            "name": search.name
        }

    def items(self, search):
        return matching(search).select_related("theme")[:FEED_LIMIT]

    def item_title(self, opinion):
        return f"{opinion.theme.short_label}：{opinion.body[:40]}"

    def item_description(self, opinion):
        return opinion.body

    def item_link(self, opinion):
        return opinion.get_absolute_url()

    def item_pubdate(self, opinion):
        return opinion.reviewed_at or opinion.created_at

    def item_updateddate(self, opinion):
        return opinion.updated_at
