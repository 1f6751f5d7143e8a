"""The committee's remarks (意見) and what they are tagged by.

Committee › Meeting; SourceDocument (a published 「主なご意見」 summary) covers meetings;
Theme is the document's three-level tree (section 【】 › theme ○ › subtheme ＜＞);
Opinion is one remark, placed in a theme node and tagged by municipality size and
stakeholder.
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Committee(models.Model):
    name = models.CharField(_("会議名"), max_length=200, unique=True)
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True)
    description = models.TextField(_("説明"), blank=True)
    url = models.URLField(_("会議のページ"), blank=True)

    class Meta:
        verbose_name = _("会議体")
        verbose_name_plural = _("会議体")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Meeting(models.Model):
    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("会議体")
    )
    number = models.PositiveSmallIntegerField(_("回"))
    held_on = models.DateField(_("開催日"), null=True, blank=True)
    agenda_url = models.URLField(_("議事次第・資料のURL"), blank=True)
    minutes_url = models.URLField(_("議事録のURL"), blank=True)

    class Meta:
        verbose_name = _("会議")
        verbose_name_plural = _("会議")
        ordering = ["committee", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "number"], name="meeting_unique_number_per_committee"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="meeting_number_positive"),
        ]

    def __str__(self):
        return _("第%(number)s回") % {"number": self.number}


class SourceDocument(models.Model):
    """A published summary of remarks, e.g. 参考資料１「第１回、第２回における主なご意見」."""

    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="documents", verbose_name=_("会議体")
    )
    title = models.CharField(_("題名"), max_length=200)
    label = models.CharField(_("資料番号"), max_length=50, blank=True)
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True, allow_unicode=True)
    meetings = models.ManyToManyField(
        Meeting, related_name="documents", blank=True, verbose_name=_("対象の会議")
    )
    published_on = models.DateField(_("公表日"), null=True, blank=True)
    url = models.URLField(_("資料のURL"), blank=True)

    class Meta:
        verbose_name = _("資料")
        verbose_name_plural = _("資料")
        ordering = ["committee", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "title"], name="document_unique_title_per_committee"
            ),
        ]

    def __str__(self):
        return f"{self.label}「{self.title}」" if self.label else self.title


class ThemeQuerySet(models.QuerySet):
    def subtree(self, node: "Theme") -> "ThemeQuerySet":
        """The node and every node below it (the tree is at most three levels deep)."""
        return self.filter(Q(pk=node.pk) | Q(parent=node) | Q(parent__parent=node))

    def in_tree_order(self) -> "ThemeQuerySet":
        """Depth-first document order — 【section】, its ○themes, each followed by its
        ＜subthemes＞ — in one query, from sibling positions alone."""
        return self.annotate(
            section_position=Coalesce("parent__parent__position", "parent__position", "position"),
            theme_position=Case(
                When(level=2, then="position"),
                When(level=3, then="parent__position"),
                default=Value(-1),
            ),
            subtheme_position=Case(When(level=3, then="position"), default=Value(-1)),
        ).order_by("section_position", "theme_position", "subtheme_position")


class Theme(models.Model):
    """A node of the document's theme tree: a section, a theme or a subtheme."""

    class Level(models.IntegerChoices):
        SECTION = 1, _("章")
        THEME = 2, _("テーマ")
        SUBTHEME = 3, _("小テーマ")

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("親"),
    )
    level = models.PositiveSmallIntegerField(_("階層"), choices=Level.choices)
    name = models.CharField(_("見出し"), max_length=200)
    short_label = models.CharField(
        _("略称"), max_length=40, help_text=_("一覧や絞り込みに表示する短い名前（例：人材育成）")
    )
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True, allow_unicode=True)
    position = models.PositiveIntegerField(_("並び順"))

    objects = ThemeQuerySet.as_manager()

    class Meta:
        verbose_name = _("テーマ")
        verbose_name_plural = _("テーマ")
        ordering = ["level", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "position"], name="theme_unique_position_among_siblings"
            ),
            models.UniqueConstraint(
                fields=["position"],
                condition=Q(parent__isnull=True),
                name="theme_unique_section_position",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"], name="theme_unique_name_among_siblings"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="theme_unique_section_name",
            ),
            # Sections are the roots; themes and subthemes always have a parent.
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True)
                | Q(level__in=[2, 3], parent__isnull=False),
                name="theme_only_sections_are_roots",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{reverse('opinions:opinion-list')}?theme={self.slug}"

    @property
    def display_name(self) -> str:
        """The heading as the document prints it: 【…】, ○… or ＜…＞."""
        return {1: "【{}】", 2: "○{}", 3: "＜{}＞"}[self.level].format(self.name)


class Vocabulary(models.Model):
    """A curated tag vocabulary entry (municipality size, stakeholder)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True)
    description = models.TextField(_("説明"), blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    is_active = models.BooleanField(
        _("有効"),
        default=True,
        help_text=_("無効にすると入力画面の選択肢から外れます（付いたタグは残ります）"),
    )

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class MunicipalitySize(Vocabulary):
    min_population = models.PositiveIntegerField(_("人口（下限）"), null=True, blank=True)
    max_population = models.PositiveIntegerField(_("人口（上限）"), null=True, blank=True)

    class Meta(Vocabulary.Meta):
        verbose_name = _("自治体規模")
        verbose_name_plural = _("自治体規模")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_population__isnull=True)
                | Q(max_population__isnull=True)
                | Q(min_population__lte=F("max_population")),
                name="size_population_band_ordered",
            ),
        ]

    def get_absolute_url(self):
        return f"{reverse('opinions:opinion-list')}?size={self.slug}"


class Stakeholder(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("関係者")
        verbose_name_plural = _("関係者")

    def get_absolute_url(self):
        return f"{reverse('opinions:opinion-list')}?stakeholder={self.slug}"


class OpinionStatus(models.TextChoices):
    PUBLISHED = "published", _("公開")
    PENDING = "pending", _("確認待ち")
    HIDDEN = "hidden", _("非公開")


class OpinionQuerySet(models.QuerySet):
    def published(self) -> "OpinionQuerySet":
        return self.filter(status=OpinionStatus.PUBLISHED)

    def visible_to(self, user) -> "OpinionQuerySet":
        """What ``user`` may see: published remarks, plus their own; everything for staff
        holding ``opinions.view_unpublished_opinion`` (事務局, 管理者)."""
        if user.has_perm("opinions.view_unpublished_opinion"):
            return self
        if user.is_authenticated:
            return self.filter(Q(status=OpinionStatus.PUBLISHED) | Q(author=user))
        return self.published()

    def in_theme(self, node: Theme) -> "OpinionQuerySet":
        """Opinions in ``node`` or anywhere below it."""
        return self.filter(theme__in=Theme.objects.subtree(node))

    def in_document_order(self) -> "OpinionQuerySet":
        # Imported remarks by document and position; submitted ones (no document) after.
        return self.order_by(
            F("source_document").asc(nulls_last=True),
            F("position").asc(nulls_last=True),
            "created_at",
            "pk",
        )

    def with_list_relations(self) -> "OpinionQuerySet":
        """Everything a list row shows, in a constant number of queries."""
        return self.select_related(
            "theme__parent__parent", "source_document", "meeting"
        ).prefetch_related("municipality_sizes", "stakeholders")


class Opinion(models.Model):
    Status = OpinionStatus

    body = models.TextField(_("本文"))
    theme = models.ForeignKey(
        Theme, on_delete=models.PROTECT, related_name="opinions", verbose_name=_("テーマ")
    )
    source_document = models.ForeignKey(
        SourceDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opinions",
        verbose_name=_("資料"),
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opinions",
        verbose_name=_("会議"),
    )
    position = models.PositiveIntegerField(_("資料内の順番"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opinions",
        verbose_name=_("投稿者"),
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=OpinionStatus.choices, default=OpinionStatus.PENDING
    )
    municipality_sizes = models.ManyToManyField(
        MunicipalitySize, related_name="opinions", blank=True, verbose_name=_("自治体規模")
    )
    stakeholders = models.ManyToManyField(
        Stakeholder, related_name="opinions", blank=True, verbose_name=_("関係者")
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = OpinionQuerySet.as_manager()

    class Meta:
        verbose_name = _("意見")
        verbose_name_plural = _("意見")
        ordering = [
            F("source_document").asc(nulls_last=True),
            F("position").asc(nulls_last=True),
            "created_at",
            "pk",
        ]
        permissions = [
            ("view_unpublished_opinion", _("確認待ち・非公開の意見を閲覧できる")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_document", "position"], name="opinion_unique_position_in_document"
            ),
            # A position only means something inside a document.
            models.CheckConstraint(
                condition=Q(source_document__isnull=True, position__isnull=True)
                | Q(source_document__isnull=False, position__isnull=False),
                name="opinion_position_iff_document",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="opinion_body_not_empty"),
            models.CheckConstraint(
                condition=Q(status__in=OpinionStatus.values),
                name="opinion_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "theme"], name="opinion_status_theme_idx"),
            models.Index(fields=["status", "-created_at"], name="opinion_status_created_idx"),
        ]

    def __str__(self):
        return self.body if len(self.body) <= 40 else f"{self.body[:40]}…"

    def get_absolute_url(self):
        return reverse("opinions:opinion-detail", kwargs={"pk": self.pk})

    @property
    def breadcrumbs(self) -> list[Theme]:
        """Section › theme › subtheme above this remark (uses the select_related chain)."""
        nodes, node = [], self.theme
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]
