"""The workbench of 事務局 (remarks with their responses, bulk actions, progress), the
response edit page, and the 「ご意見と対応」 export."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django_filters.views import FilterView

from .. import handouts
from ..browsing.filters import OpinionFilter
from ..models import Opinion
from ..views import (
    DOCX_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    ExportPermissionMixin,
    file_attachment,
)
from . import exporters, selectors, services
from .forms import BulkForm, ReferenceFormSet, ResponseForm
from .models import Response, ResponseCategory
from .workbench_filter import WorkbenchFilter


class SecretariatMixin(PermissionRequiredMixin):
    """Those who may see drafts and memos (事務局, 管理者); others get 403, anonymous the login."""

    permission_required = "opinions.view_draft_response"


class WorkbenchView(SecretariatMixin, FilterView):
    """Remarks with their response state, the list's filters plus 対応区分 and state, the
    progress per theme, and bulk actions on the checked remarks."""

    filterset_class = WorkbenchFilter
    template_name = "opinions/responses/workbench.html"
    paginate_by = 50
    strict = False

    def get_queryset(self):
        return selectors.workbench_rows(
            Opinion.objects.visible_to(self.request.user).in_document_order()
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        chosen = (
            self.filterset.form.cleaned_data.get("theme") if self.filterset.is_valid() else None
        )
        context.update(
            rows=[
                (opinion, selectors.response_link(opinion)) for opinion in context["object_list"]
            ],
            progress=selectors.theme_progress(
                self.filterset.filter_queryset_excluding(self.filterset.queryset, "theme")
            ),
            chosen_theme=chosen,
            chips=self.filterset.selection().chips(),
            bulk_form=BulkForm(),
            categories=list(ResponseCategory.objects.filter(is_active=True)),
            here=self.request.get_full_path(),
        )
        return context


def _safe_next(request, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("opinions:response-workbench")


class BulkActionView(SecretariatMixin, View):
    """Group, ungroup or set the 対応区分 of the checked remarks."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.user.has_perm("opinions.change_response"):
            raise PermissionDenied(_("対応を変更する権限がありません。"))
        data = request.POST.copy()
        if one := request.GET.get("one"):  # a row's own button: that remark alone
            data.setlist("remarks", [one])
            data["action"] = "group"
        form = BulkForm(data, opinions=Opinion.objects.visible_to(request.user))
        back = _safe_next(request, request.POST.get("next", ""))
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        data = form.cleaned_data
        remarks = list(data["remarks"])
        try:
            if data["action"] == "group":
                response = services.group_remarks(remarks=remarks, by=request.user)
                messages.success(
                    request,
                    _("%(count)s 件の意見を対応 %(pk)s にまとめました。")
                    % {"count": len(remarks), "pk": response.pk},
                )
                return redirect(response.get_absolute_url())
            if data["action"] == "ungroup":
                count = services.ungroup_remarks(remarks=remarks, by=request.user)
                messages.success(
                    request, _("%(count)s 件の意見を対応から外しました。") % {"count": count}
                )
            else:
                result = services.set_category(
                    remarks=remarks, category=data["category"], by=request.user
                )
                messages.success(
                    request,
                    _(
                        "対応区分「%(category)s」を設定しました（下書き %(updated)s 件を更新、%(created)s 件を新規作成、確認済み・公開の %(skipped)s 件はそのまま）。"
                    )
                    % {
                        "category": data["category"].name,
                        "updated": result.updated,
                        "created": result.created,
                        "skipped": result.skipped,
                    },
                )
        except services.NotAllowed as error:
            messages.error(request, str(error))
        return redirect(back)


class ResponseEditView(SecretariatMixin, View):
    """A response with its remarks beside it: write the draft, confirm, publish, or return
    it to 下書き. A stale edit keeps what was typed and shows what changed since."""

    template_name = "opinions/responses/response_form.html"
    ACTIONS = {
        "save": "opinions.change_response",
        "confirm": "opinions.confirm_response",
        "publish": "opinions.publish_response",
        "return": "opinions.change_response",
    }

    def get_response(self) -> Response:
        try:
            return selectors.editable_response(self.kwargs["pk"])
        except Response.DoesNotExist:
            raise Http404(_("対応が見つかりません。")) from None

    def render(self, response, form=None, formset=None, **extra):
        if form is None:
            form = ResponseForm(instance=response, initial={"version": response.version})
        if formset is None:
            formset = ReferenceFormSet(
                prefix="ref",
                initial=[
                    {
                        "document": reference.document_id,
                        "section": reference.section,
                        "page": reference.page,
                        "url": reference.url,
                    }
                    for reference in response.references.all()
                ],
            )
        links = list(response.links.all())
        return TemplateResponse(
            self.request,
            self.template_name,
            {
                "response": response,
                "form": form,
                "formset": formset,
                "links": links,
                "needs_look": any(link.needs_look for link in links),
                "is_author": response.author_id == self.request.user.pk,
                **extra,
            },
        )

    def get(self, request, pk):
        return self.render(self.get_response())

    def post(self, request, pk):
        response = self.get_response()
        action = request.POST.get("action", "save")
        if action not in self.ACTIONS:
            action = "save"
        if not request.user.has_perm(self.ACTIONS[action]):
            raise PermissionDenied(_("この操作をする権限がありません。"))
        form = ResponseForm(request.POST, instance=response)
        formset = ReferenceFormSet(request.POST, prefix="ref")
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        try:
            if action == "save":
                if not (form.is_valid() and formset.is_valid()):
                    return self.render(response, form, formset)
                data = form.cleaned_data
                services.save_response(
                    response.pk,
                    by=request.user,
                    expected_version=data["version"],
                    category=data["category"],
                    reasoning=data["reasoning"],
                    memo=data["memo"],
                    references=[
                        services.Reference(
                            document=row["document"],
                            section=row.get("section", ""),
                            page=row.get("page"),
                            url=row.get("url", ""),
                        )
                        for row in formset.cleaned_data
                        if row.get("document") and not row.get("DELETE")
                    ],
                )
                messages.success(request, _("下書きを保存しました。"))
            elif action == "confirm":
                services.confirm_response(response.pk, by=request.user, expected_version=version)
                messages.success(request, _("確認しました。公開できます。"))
            elif action == "publish":
                services.publish_response(response.pk, by=request.user, expected_version=version)
                messages.success(request, _("公開しました。意見の投稿者にお知らせしました。"))
            else:
                services.return_to_draft(response.pk, by=request.user, expected_version=version)
                messages.success(request, _("下書きに戻しました。"))
        except services.ResponseConflict as conflict:
            current = selectors.editable_response(response.pk)
            data = request.POST.copy()
            data["version"] = str(current.version)
            rebound = ResponseForm(data, instance=current)
            rebound.is_valid()
            rebound.add_error(
                None,
                _(
                    "編集中に、ほかの人がこの対応を変更しました。変更内容を確認してから、もう一度操作してください。"
                ),
            )
            return self.render(
                current, rebound, ReferenceFormSet(request.POST, prefix="ref"), conflict=conflict
            )
        except services.NotAllowed as error:
            form.is_valid()
            messages.error(request, str(error))
            return redirect(response.get_absolute_url())
        return redirect(response.get_absolute_url())


class RemoveRemarkView(SecretariatMixin, View):
    """Take one remark out of a draft response (from its edit page)."""

    http_method_names = ["post"]

    def post(self, request, pk, opinion_pk):
        if not request.user.has_perm("opinions.change_response"):
            raise PermissionDenied(_("対応を変更する権限がありません。"))
        opinion = get_object_or_404(Opinion, pk=opinion_pk, response_link__response_id=pk)
        try:
            services.ungroup_remarks(remarks=[opinion], by=request.user)
        except services.NotAllowed as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("意見 %(pk)s を対応から外しました。") % {"pk": opinion.pk})
        if Response.objects.filter(pk=pk).exists():
            return redirect("opinions:response-edit", pk=pk)
        return redirect("opinions:response-workbench")


class LedgerExportView(ExportPermissionMixin, View):
    """「ご意見と対応」: the published remarks of the current filters with their published
    responses, in the e-Gov layout, as DOCX or XLSX."""

    file_format = "docx"

    def get(self, request):
        filterset = OpinionFilter(
            request.GET, queryset=Opinion.objects.published(), request=request
        )
        ledger = selectors.ledger(filterset.qs)
        filename = handouts.filename(
            "responses", handouts.conditions_of(filterset.selection()), suffix=self.file_format
        )
        if self.file_format == "xlsx":
            return file_attachment(
                lambda handle: exporters.ledger_xlsx(ledger, handle),
                filename=filename,
                content_type=XLSX_CONTENT_TYPE,
            )
        return file_attachment(
            lambda handle: exporters.ledger_docx(ledger, handle),
            filename=filename,
            content_type=DOCX_CONTENT_TYPE,
        )
