"""The response ledger's tables (imported into ``opinions.models``, so they belong to the app)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ResponseCategory(models.Model):
    """A 対応区分 (反映済み, 一部反映, …): a curated vocabulary, edited in the admin."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    slug = models.SlugField(_("スラッグ"), max_length=50, unique=True)
    description = models.TextField(_("説明"), blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    is_active = models.BooleanField(
        _("有効"),
        default=True,
        help_text=_("無効にすると入力画面の選択肢から外れます（付いた対応区分は残ります）"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("対応区分")
        verbose_name_plural = pgettext_lazy("plural", "対応区分")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class PolicyDocument(models.Model):
    """A policy document a response points into (反映先), e.g. the next strategy."""

    title = models.CharField(_("題名"), max_length=200, unique=True)
    short_title = models.CharField(
        _("略称"), max_length=60, blank=True, help_text=_("書き出しの反映先欄に使う短い名前")
    )
    url = models.URLField(_("URL"), blank=True)
    published_on = models.DateField(_("公表日"), null=True, blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("政策文書")
        verbose_name_plural = pgettext_lazy("plural", "政策文書")
        ordering = ["position", "title"]

    def __str__(self):
        return self.short_title or self.title


class ResponseState(models.TextChoices):
    DRAFT = "draft", _("下書き")
    CONFIRMED = "confirmed", _("確認済み")
    PUBLISHED = "published", _("公開")


class ResponseQuerySet(models.QuerySet):
    def published(self) -> "ResponseQuerySet":
        return self.filter(state=ResponseState.PUBLISHED)

    def visible_to(self, user) -> "ResponseQuerySet":
        """Published responses; every state for holders of ``view_draft_response``."""
        if user.has_perm("opinions.view_draft_response"):
            return self
        return self.published()


class Response(models.Model):
    """事務局's answer to one or more remarks."""

    State = ResponseState

    category = models.ForeignKey(
        ResponseCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        verbose_name=_("対応区分"),
    )
    reasoning = models.TextField(_("考え方"), blank=True)
    memo = models.TextField(
        _("内部メモ"), blank=True, help_text=_("事務局の中だけで使います。公開されません。")
    )
    state = models.CharField(
        _("状態"), max_length=20, choices=ResponseState.choices, default=ResponseState.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("作成者"),
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("確認者"),
    )
    reviewed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    published_at = models.DateTimeField(_("公開日時"), null=True, blank=True)
    # Incremented by every save, as Opinion.version: an edit from an older version is refused.
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)
    remarks = models.ManyToManyField(
        "opinions.Opinion",
        through="ResponseRemark",
        related_name="responses",
        verbose_name=_("対象の意見"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = ResponseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("事務局の対応")
        verbose_name_plural = pgettext_lazy("plural", "事務局の対応")
        ordering = ["pk"]
        permissions = [
            ("view_draft_response", _("下書き・確認済みの対応と内部メモを閲覧できる")),
            ("confirm_response", _("ほかの人が書いた対応を確認できる")),
            ("publish_response", _("確認済みの対応を公開できる")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ResponseState.values), name="response_state_valid"
            ),
            # The second pair of eyes: what is confirmed or published was confirmed by
            # someone other than its author, and has a 対応区分 and a 考え方.
            models.CheckConstraint(
                condition=Q(state=ResponseState.DRAFT)
                | (
                    Q(reviewer__isnull=False, reviewed_at__isnull=False, category__isnull=False)
                    & ~Q(reviewer=F("author"))
                    & ~Q(reasoning="")
                ),
                name="response_reviewed_by_another",
            ),
            models.CheckConstraint(
                condition=~Q(state=ResponseState.PUBLISHED) | Q(published_at__isnull=False),
                name="response_published_has_date",
            ),
        ]

    def __str__(self):
        label = self.category.name if self.category_id else _("区分未設定")
        return gettext("対応 %(pk)s（%(label)s）") % {"pk": self.pk, "label": label}

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version += 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("opinions:response-edit", kwargs={"pk": self.pk})

    @property
    def is_published(self) -> bool:
        return self.state == ResponseState.PUBLISHED


class ResponseRemark(models.Model):
    """A remark a response answers; a remark is answered by at most one response."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="links", verbose_name=_("対応")
    )
    opinion = models.OneToOneField(
        "opinions.Opinion",
        on_delete=models.CASCADE,
        related_name="response_link",
        verbose_name=_("意見"),
    )
    # The remark's version the response was last written against: a remark revised since
    # (or grouped in later, None) needs another look.
    answered_version = models.PositiveIntegerField(_("対応時の意見の版"), null=True, blank=True)
    added_at = models.DateTimeField(_("追加日時"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("対応の対象")
        verbose_name_plural = pgettext_lazy("plural", "対応の対象")
        ordering = ["opinion__source_document", "opinion__position", "opinion_id"]

    def __str__(self):
        return f"{self.response_id} → {self.opinion_id}"

    @property
    def needs_look(self) -> bool:
        return self.answered_version is None or self.answered_version != self.opinion.version


class ResponseReference(models.Model):
    """Where in a policy document a response was reflected (反映先)."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="references", verbose_name=_("対応")
    )
    document = models.ForeignKey(
        PolicyDocument,
        on_delete=models.PROTECT,
        related_name="references",
        verbose_name=_("政策文書"),
    )
    section = models.CharField(_("章・節・項"), max_length=200, blank=True)
    page = models.PositiveIntegerField(_("ページ"), null=True, blank=True)
    url = models.URLField(_("URL"), blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("反映先")
        verbose_name_plural = pgettext_lazy("plural", "反映先")
        ordering = ["response", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(page__isnull=True) | Q(page__gte=1), name="reference_page_positive"
            ),
        ]

    def __str__(self):
        parts = [str(self.document)]
        if self.section:
            parts.append(self.section)
        if self.page:
            parts.append(_("p.%(page)s") % {"page": self.page})
        return " ".join(parts)
