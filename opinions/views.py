import logging
import tempfile
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django_filters.views import FilterView

from . import citations, exporters, handouts, review, selectors, services, throttling
from .analysis.digests import theme_digest
from .analysis.related import related_by_meaning
from .browsing import (
    caching,
    cards,
    counts,
    crosstab,
    estimates,
    facets,
    hits,
    search,
    themes,
    vocabularies,
)
from .browsing.axes import TAG_AXES
from .browsing.filters import OpinionFilter
from .browsing.paging import IdsFirstPaginator, page_number
from .browsing.selection import clean_query, list_url
from .forms import (
    CrossTabForm,
    CsvOptionsForm,
    ReviewForm,
    RevisionForm,
    SubmissionForm,
    SummaryScopeForm,
)
from .models import Meeting, Opinion, SavedSearch, SourceDocument, Theme, visible_statuses
from .responses import selectors as responses

logger = logging.getLogger(__name__)


def visible_opinions(request):
    return Opinion.objects.visible_to(request.user)


class OpinionListView(caching.CachedPageMixin, FilterView):
    page_cache_name = "page-opinion-list"
    filterset_class = OpinionFilter
    template_name = "opinions/opinion_list.html"
    paginate_by = settings.OPINIONS_PAGE_SIZE
    # Invalid parameters are dropped (with a notice) instead of emptying the list.
    strict = False
    page_cache_parameters = {**OpinionFilter.parameters(), "page": 1}

    def get(self, request, *args, **kwargs):
        # The filter form sends every field, so a shared link read ?q=&theme=&…: the same
        # list at its clean address (an empty parameter filters nothing).
        if "" in (value for _key, values in request.GET.lists() for value in values):
            return redirect(f"{request.path}{clean_query(request.GET)}")
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return responses.with_published_response(
            visible_opinions(self.request).with_card_relations().in_document_order()
        )

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        for notice in filterset.notices:
            messages.warning(self.request, notice)
        return filterset

    def get_paginator(self, queryset, per_page, **kwargs):
        count, found = self.list_counts()
        if estimates.read_in_order(
            found.share,
            page=page_number(self.request.GET.get(self.page_kwarg)),
            per_page=per_page,
            sort=self.filterset.selection().sort,
            statuses=visible_statuses(self.request.user),
            within=found.within,
        ):
            queryset = self.filterset.qs_read_in_order()
        return IdsFirstPaginator(
            queryset, per_page, count=count, estimated=found.total_estimated, **kwargs
        )

    @cached_property
    def names(self) -> vocabularies.Vocabularies:
        """The names the facets and the cards give, looked up once for both."""
        return vocabularies.of(self.request)

    def list_counts(self) -> tuple[int, facets.Facets]:
        """The result count and the facets, computed together (a search reads its
        matches once for all of them) and cached until the data changes."""
        if not hasattr(self, "_counts"):
            selection = self.filterset.selection()
            self._counts = caching.cached(
                self.request,
                "list-counts",
                selection.key(),
                lambda: facets.list_counts(
                    selection,
                    self.filterset.queryset,
                    visible_statuses(self.request.user),
                    self.names,
                ),
            )
        return self._counts

    def paginate_queryset(self, queryset, page_size):
        """Like Django's, but a bad or out-of-range ``page`` shows the nearest page, not a 404."""
        paginator = self.get_paginator(queryset, page_size)
        requested = self.request.GET.get(self.page_kwarg, "1")
        page = paginator.get_page(requested)
        if requested != str(page.number) and self.page_kwarg in self.request.GET:
            messages.info(
                self.request,
                _("ページ指定「%(page)s」は無効なため、%(number)s ページ目を表示しています。")
                % {"page": requested[:20], "number": page.number},
            )
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        cards.attach_tags(context["object_list"], self.names.tags)
        selection = self.filterset.selection()
        query = selection.query
        chips = selection.chips()
        context.update(
            detail_query=self.detail_query(page),
            page_range=page.paginator.get_elided_page_range(page.number) if page else [],
            facets=self.list_counts()[1],
            count_estimated=page.paginator.estimated,
            response_facet=caching.cached(
                self.request,
                "response-facet",
                selection.key(),
                lambda: responses.category_facet(
                    selection,
                    self.filterset.queryset,
                    visible_statuses(self.request.user),
                    # Without a 対応区分 chosen, the facet's remarks are the list's.
                    total=None if selection.chosen("response") else self.list_counts()[0],
                    estimated=self.list_counts()[1].total_estimated,
                ),
            ),
            chips=chips,
            chip_values=[value for _facet, value, _url, _lang in chips],
            query=query,
            snippets={
                opinion.pk: search.highlight(opinion.body, query, width=160 if query else 200)
                for opinion in context["object_list"]
            },
            sort_choices=selection.sort_options(),
        )
        if not page.paginator.count:
            context.update(self.nearest_queries(context["facets"]))
        return context

    def detail_query(self, page) -> str:
        """What a remark's link carries so that its page can go on through these hits."""
        data = given(self.request.GET)
        if not any(key in data for key in LIST_PARAMETERS if key != "page"):
            return ""
        data["page"] = str(page.number)
        return f"?{data.urlencode()}"

    def nearest_queries(self, options: facets.Facets) -> dict:
        """For a list that found nothing: queries one change away, with their counts; for
        a search, also the same filters without it."""
        selection = self.filterset.selection()
        found = {"suggestions": facets.nearest_queries(selection, options)}
        if selection.search:
            without = selection.without("q")
            count = facets.list_total(
                without, self.filterset.queryset, visible_statuses(self.request.user)
            ).count
            if count:
                found["without_search"] = (without.url_with(q=None, sort=None), count)
        return found


# The list's parameters: a remark's page opened from a filtered list or a search has them.
LIST_PARAMETERS = (*OpinionFilter.base_filters, "page")


class OpinionDetailView(caching.CachedPageMixin, DetailView):
    page_cache_name = "page-opinion-detail"
    template_name = "opinions/opinion_detail.html"
    context_object_name = "opinion"

    def get_queryset(self):
        return Opinion.objects.openable_by(self.request.user).with_page_relations()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visible = visible_opinions(self.request)
        context["previous"], context["next"] = hits.neighbours(self.object, visible)
        related = related_by_meaning(self.object, visible)
        if related is None:  # not analysed yet: shared tags, theme and wording
            related = selectors.related_opinions(self.object, visible)
        context["related"] = related
        context["permalink"] = self.request.build_absolute_uri(self.object.get_absolute_url())
        context["meetings"] = citations.meetings_of(self.object)
        context["committee"] = citations.committee_of(self.object, context["meetings"])
        context["citation"] = citations.citation_parts(
            self.object, url=context["permalink"], meetings=context["meetings"]
        )
        context["citation_separator"] = citations.separator()
        context.update(self.hit_context())
        context["shown_response"] = responses.published_response(self.object, visible)
        return context

    def hit_context(self) -> dict:
        """From a filtered list or a search: the remark among its hits (前/次, n / N, back
        to the same list page) and the search terms marked in the text."""
        data = given(self.request.GET)
        if not any(key in data for key in LIST_PARAMETERS if key != "page"):
            return {}
        visible = visible_opinions(self.request).in_document_order()
        selection = OpinionFilter(data, queryset=visible, request=self.request).selection()
        page = data.get("page", "1")
        found = hits.hit_context(
            selection,
            visible,
            self.object,
            page=int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**6 else 1,
            page_size=settings.OPINIONS_PAGE_SIZE,
            statuses=visible_statuses(self.request.user),
        )
        context = {"hits": found}
        if found is None:
            context["back_url"] = f"{reverse('opinions:opinion-list')}{selection.url_with()}"
        if selection.search:
            context["marked_body"] = search.highlight(self.object.body, selection.search)
        return context


class ThemeIndexView(caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-theme-index"
    template_name = "opinions/theme_index.html"

    def get_context_data(self, **kwargs):
        per_theme = caching.cached(
            self.request,
            "theme-counts",
            (),
            lambda: counts.theme_counts(
                visible_opinions(self.request), counts.visible_scope(self.request.user)
            ),
        )
        return super().get_context_data(nodes=themes.theme_tree(per_theme), **kwargs)


class ThemeDetailView(caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-theme-detail"
    template_name = "opinions/theme_detail.html"

    def get_context_data(self, **kwargs):
        theme = get_object_or_404(Theme, slug=self.kwargs["slug"])
        summary = caching.cached(
            self.request,
            "theme-summary",
            theme.pk,
            lambda: themes.theme_summary(
                theme, visible_opinions(self.request), counts.visible_scope(self.request.user)
            ),
        )
        category_bars = caching.cached(
            self.request,
            "theme-response-bars",
            theme.pk,
            lambda: responses.category_bars(theme, visible_opinions(self.request)),
        )
        return super().get_context_data(
            theme=theme,
            summary=summary,
            category_bars=category_bars,
            digest=theme_digest(theme, visible_opinions(self.request)),
            list_url=list_url(theme=theme.slug),
            **kwargs,
        )


def crosstab_axes() -> dict[str, str]:
    """The cross-tab's axes and their names (テーマ × 関係者 …)."""
    size, stakeholder = (axis.model._meta.verbose_name for axis in TAG_AXES.values())
    return {
        "stakeholder": _("テーマ × %(axis)s") % {"axis": stakeholder},
        "size": _("テーマ × %(axis)s") % {"axis": size},
        crosstab.PAIR_AXIS: _("%(rows)s × %(columns)s") % {"rows": size, "columns": stakeholder},
    }


class CrossTabMixin:
    """The axis (a 404 for an unknown one) and the document or meeting a cross-tab counts."""

    def crosstab_parts(self):
        request = self.request
        axis = request.GET.get("axis") or "stakeholder"
        if axis not in crosstab.CROSSTAB_AXES:
            raise Http404(_("集計軸「%(axis)s」はありません。") % {"axis": axis[:30]})
        form = CrossTabForm(given(request.GET))
        form.is_valid()
        chosen = {name: form.cleaned_data.get(name) for name in ("document", "meeting")}
        table = caching.cached(
            request,
            "crosstab",
            (axis, *(value.pk if value else None for value in chosen.values())),
            lambda: crosstab.crosstab(
                visible_opinions(request),
                axis,
                counts.visible_scope(request.user),
                **chosen,
            ),
        )
        return axis, form, chosen, table


class CrossTabView(CrossTabMixin, caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-crosstab"
    page_cache_parameters = {"axis": 1}
    template_name = "opinions/crosstab.html"

    def get_context_data(self, **kwargs):
        axis, form, chosen, table = self.crosstab_parts()
        for name in form.errors:
            messages.warning(
                self.request,
                _("%(field)sの指定は無効なため無視しました。") % {"field": form[name].label},
            )
        names = crosstab_axes()
        keep = {name: value for name, value in given(self.request.GET).items() if name != "axis"}
        return super().get_context_data(
            table=table,
            axis=axis,
            axis_title=names[axis],
            form=form,
            chosen=chosen,
            documents=list(SourceDocument.objects.all()),
            meetings=list(Meeting.objects.all()),
            axes=[
                (name, label, f"?{urlencode({'axis': name, **keep})}")
                for name, label in names.items()
            ],
            query=urlencode({"axis": axis, **keep}),
            **kwargs,
        )


class CrossTabExportView(CrossTabMixin, View):
    """The cross-tab the page shows (same axis and restriction), as CSV or XLSX."""

    file_format = "csv"

    def get(self, request):
        axis, form, chosen, table = self.crosstab_parts()
        row_header = (
            TAG_AXES["size"].model._meta.verbose_name if axis == crosstab.PAIR_AXIS else _("テーマ")
        )
        lines = crosstab.crosstab_table(table, row_header=str(row_header), total_label=_("合計"))
        axis_title = crosstab_axes()[axis]
        conditions = handouts.crosstab_conditions(axis_title, form, **chosen)
        filename = handouts.filename("crosstab", conditions, suffix=self.file_format)
        if self.file_format == "xlsx":
            block = handouts.title_block(
                conditions,
                title=_("クロス集計（%(axis)s）") % {"axis": axis_title},
                url=request.build_absolute_uri(
                    f"{reverse('opinions:crosstab')}?{given(request.GET).urlencode()}"
                ),
            )
            return file_attachment(
                lambda handle: exporters.write_xlsx(
                    lines,
                    handle,
                    widths=[40, *([10] * (len(lines[0]) - 1))],
                    title_block=block,
                ),
                filename=filename,
                content_type=XLSX_CONTENT_TYPE,
            )
        return StreamingHttpResponse(
            exporters.csv_chunks(lines),
            content_type="text/csv; charset=utf-8",
            headers=attachment(filename),
        )


# --- Submission, マイページ and review -------------------------------------------------------


class MemberRequiredMixin(PermissionRequiredMixin):
    """Anonymous users go to the login page and come back; others without the permission
    get the 403 page."""

    permission_required = "opinions.add_opinion"


class SubmitView(MemberRequiredMixin, FormView):
    """入力 → 確認 → 完了. Each step posts the whole form; the confirmation step carries the
    values in hidden fields, so going back to edit loses nothing."""

    form_class = SubmissionForm
    template_name = "opinions/submit_form.html"

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        step = request.POST.get("step", "confirm")
        if step == "edit" or not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, step="input"))
        data = form.cleaned_data
        already = (
            Opinion.objects.authored_by(request.user).filter(submission_token=data["token"]).first()
        )
        if already is not None:  # a double click or a resubmitted POST
            return redirect("opinions:submit-done", pk=already.pk)
        # Only remarks this member may open: another member's pending text must not leak here.
        duplicates = selectors.near_duplicates(
            data["body"], Opinion.objects.openable_by(request.user)
        )
        if step == "save" and (not duplicates or data["not_duplicate"]):
            if self._over_the_hourly_limit():
                form.add_error(
                    None,
                    _(
                        "短い時間に多くの意見が投稿されたため、しばらく受け付けられません。入力した内容はこのまま残っています。1時間ほど待ってから、もう一度投稿してください。"
                    ),
                )
                return self.render_to_response(
                    self.get_context_data(form=form, step="input"), status=429
                )
            opinion, _created = services.submit_opinion(
                author=request.user,
                token=data["token"],
                body=data["body"],
                theme=data["theme"],
                municipality_sizes=data["municipality_sizes"],
                stakeholders=data["stakeholders"],
                meeting=data["meeting"],
            )
            return redirect("opinions:submit-done", pk=opinion.pk)
        form = self._with_accepted_suggestion(form)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                step="confirm",
                duplicates=duplicates,
                needs_acknowledgement=step == "save" and bool(duplicates),
                suggestions=selectors.tag_suggestions(
                    form.cleaned_data["body"],
                    chosen=[
                        *form.cleaned_data["municipality_sizes"],
                        *form.cleaned_data["stakeholders"],
                    ],
                ),
            )
        )

    def _over_the_hourly_limit(self) -> bool:
        """Counts this submission; True if it is one more than a member may make in an hour
        (OPINIONS_SUBMISSIONS_PER_HOUR), which no person typing remarks reaches."""
        made = throttling.record("submit", str(self.request.user.pk), window=3600)
        return made > settings.OPINIONS_SUBMISSIONS_PER_HOUR

    def _with_accepted_suggestion(self, form):
        """One click on a suggested tag adds it: the form is bound again with the tag."""
        accepted = self.request.POST.get("accept", "")
        field, _sep, slug = accepted.partition(":")
        if field not in ("municipality_sizes", "stakeholders") or not slug:
            return form
        model = form.fields[field].queryset.model
        tag = model.objects.active().filter(slug=slug).first()
        if tag is None:
            return form
        data = self.request.POST.copy()
        data.setlist(field, [*data.getlist(field), str(tag.pk)])
        rebound = self.form_class(data)
        rebound.is_valid()
        return rebound


class SubmitDoneView(LoginRequiredMixin, DetailView):
    template_name = "opinions/submit_done.html"
    context_object_name = "opinion"

    def get_queryset(self):
        return Opinion.objects.authored_by(self.request.user).select_related("theme")


class MyPageView(LoginRequiredMixin, ListView):
    template_name = "opinions/mypage.html"
    context_object_name = "opinions"
    paginate_by = settings.OPINIONS_PAGE_SIZE

    def get_queryset(self):
        return responses.mypage_responses(
            Opinion.objects.authored_by(self.request.user)
            .select_related("theme__parent__parent", "reviewed_by")
            .order_by("-updated_at", "-pk")
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            saved_searches=self.request.user.saved_searches.all(),
            alert_choices=SavedSearch.Alert.choices,
            **kwargs,
        )


class AuthorOnlyMixin(LoginRequiredMixin):
    """The remark's author, holding ``change_own_opinion``, while it is pending or returned."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.opinion = self.get_opinion()
        return super().dispatch(request, *args, **kwargs)

    def get_opinion(self) -> Opinion:
        user = self.request.user
        # A remark this user may not open is a 404, as on its page: a 403 would tell anyone
        # signed in which ids hold unpublished remarks.
        opinion = get_object_or_404(
            Opinion.objects.openable_by(user).select_related("theme"), pk=self.kwargs["pk"]
        )
        if opinion.author_id != user.pk or not user.has_perm("opinions.change_own_opinion"):
            raise PermissionDenied(_("この意見を変更できるのは投稿者だけです。"))
        if not opinion.is_editable_by_author:
            raise PermissionDenied(
                _("「%(status)s」の意見は変更できません。")
                % {"status": opinion.get_status_display()}
            )
        return opinion


class OpinionEditView(AuthorOnlyMixin, FormView):
    form_class = RevisionForm
    template_name = "opinions/edit_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.opinion
        kwargs.setdefault("initial", {})["version"] = self.opinion.version
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.revise_opinion(
                self.opinion.pk,
                by=self.request.user,
                expected_version=data["version"],
                body=data["body"],
                theme=data["theme"],
                municipality_sizes=data["municipality_sizes"],
                stakeholders=data["stakeholders"],
                meeting=data["meeting"],
            )
        except services.EditConflict as conflict:
            form.add_error(
                None,
                _(
                    "編集中に、ほかの人がこの意見を変更しました。変更内容を確認してから、もう一度保存してください。"
                ),
            )
            return self.render_to_response(
                self.get_context_data(form=self._rebased(form, conflict.opinion), conflict=conflict)
            )
        except services.NotEditable as error:
            raise PermissionDenied(
                _("「%(status)s」の意見は変更できません。") % {"status": error}
            ) from None
        messages.success(self.request, _("意見を保存しました。事務局の確認をお待ちください。"))
        return redirect("opinions:mypage")

    def _rebased(self, form, current: Opinion):
        """Keep what the user typed, but on top of the current version."""
        data = self.request.POST.copy()
        data["version"] = str(current.version)
        rebound = self.form_class(data, instance=current)
        rebound.is_valid()
        for error in form.non_field_errors():
            rebound.add_error(None, error)
        return rebound

    def get_context_data(self, **kwargs):
        # In a conflict every value shown is data (Japanese), but the status's.
        status_label = Opinion._meta.get_field("status").verbose_name
        return super().get_context_data(opinion=self.opinion, status_label=status_label, **kwargs)


class OpinionWithdrawView(AuthorOnlyMixin, TemplateView):
    template_name = "opinions/withdraw_confirm.html"

    def post(self, request, *args, **kwargs):
        services.withdraw_opinion(self.opinion.pk, by=request.user)
        messages.success(request, _("意見を取り下げました。記録は残ります。"))
        return redirect("opinions:mypage")

    def get_context_data(self, **kwargs):
        return super().get_context_data(opinion=self.opinion, **kwargs)


class ReviewQueueView(PermissionRequiredMixin, FilterView):
    """事務局's queue: pending remarks, the longest waiting first (or filtered and sorted),
    each with one form for its decision, comment, memo and tags."""

    permission_required = review.PERMISSION
    filterset_class = review.ReviewFilter
    template_name = "opinions/review_queue.html"
    context_object_name = "opinions"
    paginate_by = 20
    strict = False
    # A form posted with errors, shown again in place with what was typed.
    bound_form = None

    def get_queryset(self):
        return review.pending().with_list_relations().select_related("author")

    def paginate_queryset(self, queryset, page_size):
        """The nearest page, not a 404, when a decision has just emptied the last one."""
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        context.update(
            review.queue_context(context["opinions"], bound=self.bound_form),
            page_range=page.paginator.get_elided_page_range(page.number) if page else [],
        )
        return context


class ReviewActionView(PermissionRequiredMixin, View):
    permission_required = review.PERMISSION
    http_method_names = ["post"]

    def post(self, request, pk):
        opinion = get_object_or_404(Opinion, pk=pk)
        form = ReviewForm(request.POST, prefix=f"r{pk}")
        remark = _("意見 %(pk)s") % {"pk": pk}
        back = self._back_to_queue(request)
        if not form.is_valid():
            # The queue again, this form with its errors next to the fields and all it held.
            messages.error(request, _("%(remark)s: 入力を確かめてください。") % {"remark": remark})
            queue = ReviewQueueView(bound_form=form)
            queue.setup(request)
            return queue.get(request)
        data = form.cleaned_data
        try:
            if data["action"] == "save":
                services.save_review_notes(
                    opinion.pk,
                    by=request.user,
                    expected_version=data["version"],
                    memo=data["memo"],
                    **form.tag_changes(),
                )
            else:
                services.review_opinion(
                    opinion.pk,
                    by=request.user,
                    expected_version=data["version"],
                    publish=data["action"] == "publish",
                    comment=data["comment"],
                    memo=data["memo"],
                    **form.tag_changes(),
                )
        except services.EditConflict as conflict:
            changed = (
                pgettext("list separator", "、").join(
                    f"{label}: {old} → {new}" for label, old, new in conflict.changes
                )
                or "—"
            )
            messages.error(
                request,
                _(
                    "意見 %(pk)s は確認中に変更されたため、処理しませんでした（%(changes)s）。内容を確かめてからもう一度操作してください。"
                )
                % {"pk": pk, "changes": changed},
            )
        except services.NotEditable as error:
            messages.warning(
                request,
                _("意見 %(pk)s は「%(status)s」のため処理しませんでした。")
                % {"pk": pk, "status": error},
            )
        else:
            done = {
                "publish": _("公開しました"),
                "return": _("差し戻しました"),
                "save": _("メモとタグを保存しました"),
            }[data["action"]]
            messages.success(request, f"{remark}: {done}")
        return redirect(back)

    @staticmethod
    def _back_to_queue(request) -> str:
        """The queue as it was filtered: the form posts to an address carrying its query."""
        url = reverse("opinions:review-queue")
        return f"{url}?{request.GET.urlencode()}" if request.GET else url


class ReviewBulkPublishView(PermissionRequiredMixin, TemplateView):
    """Publish the remarks ticked in the queue: first a confirmation listing them, then,
    confirmed, each is published as it was shown (one edited meanwhile is left out)."""

    permission_required = review.PERMISSION
    http_method_names = ["post"]
    template_name = "opinions/review_bulk_confirm.html"

    def post(self, request, *args, **kwargs):
        choices = review.parse_choices(request.POST.getlist("opinions"))
        if not choices:
            messages.warning(request, _("公開する意見を選んでください。"))
            return redirect("opinions:review-queue")
        if request.POST.get("confirm") != "1":
            chosen = (
                review.pending()
                .filter(pk__in=[pk for pk, _version in choices])
                .with_list_relations()
                .select_related("author")
                .order_by("updated_at", "pk")
            )
            return self.render_to_response(self.get_context_data(chosen=chosen, choices=choices))
        result = review.publish_many(choices, by=request.user)
        for message in review.bulk_messages(result):
            messages.add_message(request, *message)
        return redirect("opinions:review-queue")


def healthz(request):
    """For load balancers and monitoring: 200 when the database answers, else 503. A shared
    cache that does not answer is reported ("cache": "degraded") but is no failure: pages
    are then computed every time, still right."""
    from django.db import connection
    from django.db.utils import Error as DatabaseError
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("healthz: database unavailable: %s", error)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    cache = caching.cache_status()
    return JsonResponse(
        {"status": "ok" if cache == "ok" else "degraded", "database": "ok", "cache": cache}
    )


# --- Exports ---------------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(name: exporters.FileName) -> dict[str, str]:
    """Content-Disposition for a download named ``name``: the name in UTF-8 as RFC 5987
    writes it (``filename*``, which browsers use) and its ASCII form for the rest."""
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{name.ascii}\"; filename*=UTF-8''{quote(name.name, safe='')}"
        )
    }


def file_attachment(write, *, filename: exporters.FileName, content_type: str) -> FileResponse:
    """A download of what ``write(file)`` writes, through a temporary file rather than
    memory; the file is deleted when the response has been sent and closes it."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it
    try:
        write(handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return FileResponse(handle, content_type=content_type, headers=attachment(filename))


def export_list_url(request) -> str:
    """The list with an export's conditions: where its remarks are seen, on screen."""
    query = given(request.GET)
    for key in ("encoding", "page"):
        query.pop(key, None)
    url = request.build_absolute_uri(reverse("opinions:opinion-list"))
    return f"{url}?{query.urlencode()}" if query else url


class ExportPermissionMixin(PermissionRequiredMixin):
    """事務局 and 管理者 export; anyone else logged in gets 403, anonymous users the login."""

    permission_required = "opinions.export_opinion"


def given(data: QueryDict) -> QueryDict:
    """The parameters that were given: an empty one (an empty field of the list form) means
    "not given", for every export as for the list."""
    kept = QueryDict(mutable=True)
    for key, values in data.lists():
        if filled := [value for value in values if value.strip()]:
            kept.setlist(key, filled)
    return kept


def export_error(request, message: str, *, field: str) -> HttpResponse:
    """A page (not a bare text) that says why nothing was exported, with a way back to the
    list with the same conditions but the faulty ``field``: a browser shows a download
    link's error in the tab."""
    back = given(request.GET)
    for key in (field, "encoding", "page"):
        back.pop(key, None)
    return render(
        request,
        "opinions/export_error.html",
        {"message": message, "list_query": back.urlencode()},
        status=400,
    )


class OpinionExportView(ExportPermissionMixin, View):
    """Every remark the list shows for the same filters (all pages), as CSV or XLSX."""

    file_format = "csv"

    def get(self, request):
        data = given(request.GET)
        options = CsvOptionsForm(data)
        if not options.is_valid():
            return export_error(
                request, _("文字コードの指定が正しくありません。"), field="encoding"
            )
        # The list's own queryset and FilterSet: invalid filters are dropped the same way.
        queryset = visible_opinions(request).in_document_order()
        filterset = OpinionFilter(data, queryset=queryset, request=request)
        conditions = handouts.conditions_of(filterset.selection())
        columns = exporters.export_columns(
            include_status=request.user.has_perm("opinions.view_unpublished_opinion"),
            base_url=request.build_absolute_uri("/"),
        )
        table = exporters.rows(selectors.export_records(filterset.qs), columns)
        if self.file_format == "xlsx":
            block = handouts.title_block(
                conditions, title=_("意見一覧"), url=export_list_url(request)
            )
            return file_attachment(
                lambda handle: exporters.write_xlsx(
                    table, handle, widths=[column.width for column in columns], title_block=block
                ),
                filename=handouts.filename("opinions", conditions, suffix="xlsx"),
                content_type=XLSX_CONTENT_TYPE,
            )
        encoding = options.cleaned_data["encoding"]
        charset = "utf-8" if encoding == "utf-8" else "Shift_JIS"
        # The two encodings' files are told apart by name too.
        variant = "" if encoding == "utf-8" else "Shift_JIS"
        return StreamingHttpResponse(
            exporters.csv_chunks(table, encoding=encoding),
            content_type=f"text/csv; charset={charset}",
            headers=attachment(
                handouts.filename("opinions", conditions, suffix="csv", variant=variant)
            ),
        )


class SummaryExportView(ExportPermissionMixin, View):
    """The 「主なご意見」 document of a source document, of meetings, or of the list's
    current filters, as DOCX or plain text."""

    file_format = "docx"

    def get(self, request):
        data = given(request.GET)
        scope = SummaryScopeForm(data)
        if not scope.is_valid():
            return export_error(request, " ".join(scope.errors["meeting"]), field="meeting")
        data.pop("meeting", None)  # the scope form reads it, allowing several
        meetings = list(scope.cleaned_data["meeting"])
        filterset = OpinionFilter(data, queryset=visible_opinions(request), request=request)
        selection = filterset.selection()
        parsed = selectors.summary_for(selection, filterset.qs, meetings=meetings)
        conditions = handouts.conditions_of(selection, meetings=meetings)
        block = handouts.title_block(
            conditions,
            title=parsed.title,
            label=parsed.label,
            count=parsed.counts()["opinions"],
            url=export_list_url(request),
        )
        filename = handouts.filename("summary", conditions, suffix=self.file_format)
        if self.file_format == "txt":
            return HttpResponse(
                exporters.summary_text(parsed, block),
                content_type="text/plain; charset=utf-8",
                headers=attachment(filename),
            )
        return file_attachment(
            lambda handle: exporters.summary_docx(parsed, handle, title_block=block),
            filename=filename,
            content_type=DOCX_CONTENT_TYPE,
        )
