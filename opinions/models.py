"""The committee's remarks (意見) and what they are tagged by.

Committee › Meeting; SourceDocument (a published 「主なご意見」 summary) covers meetings;
Theme is the document's three-level tree (section 【】 › theme ○ › subtheme ＜＞);
Opinion is one remark, placed in a theme node and tagged by municipality size and
stakeholder.
"""

import functools
import re
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .tagging import normalize


def opinion_list_url() -> str:
    """The remark list's address (``reverse("opinions:opinion-list")``), reversed once per
    URLconf and script prefix: a list page's cards link their theme, tags and sizes to it a
    few hundred times, and reversing each cost 8 ms of a first visit's 60 at 50 cards."""
    return _reversed_list_url(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=16)
def _reversed_list_url(urlconf: str, prefix: str) -> str:
    return reverse("opinions:opinion-list", urlconf=urlconf)


_ANY_PK = 9_876_543_210  # stands for the remark's number in the reversed address below


def opinion_url(pk: int) -> str:
    """A remark's page (``reverse("opinions:opinion-detail", ...)``), from its address
    reversed once per URLconf and script prefix, as :func:`opinion_list_url`: fifty cards
    and their related remarks reversed one by one cost a list page 4 ms."""
    head, tail = _reversed_opinion_url(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{head}{int(pk)}{tail}"


@functools.lru_cache(maxsize=16)
def _reversed_opinion_url(urlconf: str, prefix: str) -> tuple[str, str]:
    head, _, tail = reverse(
        "opinions:opinion-detail", kwargs={"pk": _ANY_PK}, urlconf=urlconf
    ).rpartition(str(_ANY_PK))
    return head, tail


# Japanese names a model the same in the singular and the plural; verbose_name_plural has the
# context "plural" so that English can tell them apart.


class Committee(models.Model):
    name = models.CharField(_("会議名"), max_length=200, unique=True)
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True)
    description = models.TextField(_("説明"), blank=True)
    url = models.URLField(_("会議のページ"), blank=True)

    class Meta:
        verbose_name = _("会議体")
        verbose_name_plural = pgettext_lazy("plural", "会議体")
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
        verbose_name_plural = pgettext_lazy("plural", "会議")
        ordering = ["committee", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "number"], name="meeting_unique_number_per_committee"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="meeting_number_positive"),
        ]

    def __str__(self):
        return gettext("第%(number)s回") % {"number": self.number}


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
        verbose_name_plural = pgettext_lazy("plural", "資料")
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
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("テーマ")
        verbose_name_plural = pgettext_lazy("plural", "テーマ")
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
        return reverse("opinions:theme-detail", kwargs={"slug": self.slug})

    def get_list_url(self):
        """The opinion list filtered to this node (and everything below it)."""
        return f"{opinion_list_url()}?theme={self.slug}"

    @property
    def display_name(self) -> str:
        """The heading as the document prints it: 【…】, ○… or ＜…＞."""
        return {1: "【{}】", 2: "○{}", 3: "＜{}＞"}[self.level].format(self.name)


class VocabularyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def offered_for(self, opinion: "Opinion | None" = None):
        """What a form offers: active tags, plus any inactive one already on ``opinion``
        (so editing an old remark never silently drops it)."""
        if opinion is None or opinion.pk is None:
            return self.active()
        return self.filter(Q(is_active=True) | Q(opinions=opinion)).distinct()


class Vocabulary(models.Model):
    """A curated tag vocabulary entry (municipality size, stakeholder).

    ``opinion_field`` names the Opinion many-to-many that holds it and ``rule_field``
    the foreign key of TagRule / TagSuggestion that points at it.
    """

    opinion_field: str
    rule_field: str

    name = models.CharField(_("名称"), max_length=100, unique=True)
    slug = models.SlugField(_("スラッグ"), max_length=100, unique=True)
    description = models.TextField(_("説明"), blank=True)
    position = models.PositiveIntegerField(_("並び順"), default=0)
    is_active = models.BooleanField(
        _("有効"),
        default=True,
        help_text=_("無効にすると入力画面の選択肢から外れます（付いたタグは残ります）"),
    )

    objects = VocabularyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class MunicipalitySize(Vocabulary):
    """A municipality-size category; no size tag on a remark means 「規模を問わない」."""

    opinion_field = "municipality_sizes"
    rule_field = "municipality_size"

    min_population = models.PositiveIntegerField(_("人口（下限）"), null=True, blank=True)
    max_population = models.PositiveIntegerField(_("人口（上限）"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        verbose_name = _("自治体規模")
        verbose_name_plural = pgettext_lazy("plural", "自治体規模")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_population__isnull=True)
                | Q(max_population__isnull=True)
                | Q(min_population__lte=F("max_population")),
                name="size_population_band_ordered",
            ),
        ]

    def get_absolute_url(self):
        return f"{opinion_list_url()}?size={self.slug}"


class Stakeholder(Vocabulary):
    class Group(models.TextChoices):
        SANKANGAKUKINROGEN = "sankangakukinrogen", _("産官学金労言")
        ACTOR = "actor", _("地域の主体")

    opinion_field = "stakeholders"
    rule_field = "stakeholder"

    group = models.CharField(_("区分"), max_length=30, choices=Group.choices, default=Group.ACTOR)

    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        verbose_name = _("関係者")
        verbose_name_plural = pgettext_lazy("plural", "関係者")

    def get_absolute_url(self):
        return f"{opinion_list_url()}?stakeholder={self.slug}"


class OpinionStatus(models.TextChoices):
    PUBLISHED = "published", _("公開")
    PENDING = "pending", _("確認待ち")
    RETURNED = "returned", _("差し戻し")
    HIDDEN = "hidden", _("非公開")
    WITHDRAWN = "withdrawn", _("取り下げ")

    @classmethod
    def editable_by_author(cls) -> list[str]:
        """While a remark is being reviewed (or was returned), its author may revise it."""
        return [cls.PENDING, cls.RETURNED]


def visible_statuses(user) -> tuple[str, ...]:
    """The statuses of what ``user`` finds in lists, search, counts, summaries, exports and
    the API: published; for staff holding ``opinions.view_unpublished_opinion`` (事務局,
    管理者) every status but withdrawn. A member's own unpublished remarks are on their
    マイページ, not there. The count tables (opinions/browsing/counts.py) are read by status."""
    if user.has_perm("opinions.view_unpublished_opinion"):
        return tuple(s for s in OpinionStatus.values if s != OpinionStatus.WITHDRAWN)
    return (OpinionStatus.PUBLISHED.value,)


class OpinionQuerySet(models.QuerySet):
    def published(self) -> "OpinionQuerySet":
        return self.filter(status=OpinionStatus.PUBLISHED)

    def visible_to(self, user) -> "OpinionQuerySet":
        """The remarks of :func:`visible_statuses`."""
        statuses = visible_statuses(user)
        if statuses == (OpinionStatus.PUBLISHED,):
            return self.published()  # an equality, as the partial indexes are declared
        return self.filter(status__in=statuses)

    def openable_by(self, user) -> "OpinionQuerySet":
        """What ``user`` may open on its own page: what they can list, plus their own."""
        if user.has_perm("opinions.view_unpublished_opinion"):
            return self
        if user.is_authenticated:
            return self.filter(Q(status=OpinionStatus.PUBLISHED) | Q(author=user))
        return self.published()

    def authored_by(self, user) -> "OpinionQuerySet":
        return self.filter(author=user) if user.is_authenticated else self.none()

    def in_theme(self, node: Theme) -> "OpinionQuerySet":
        """Opinions in ``node`` or anywhere below it."""
        return self.filter(theme__in=Theme.objects.subtree(node))

    def with_any_tag(self, field: str, tags, *, untagged: bool = False) -> "OpinionQuerySet":
        """Opinions carrying any of ``tags`` through the many-to-many ``field`` — or, with
        ``untagged``, none of that kind at all (規模を問わない, 関係者の指定なし).

        A subquery on the through table rather than a join, so rows are never duplicated
        and further tag filters and counts stay exact.
        """
        relation = Opinion._meta.get_field(field)
        through = relation.remote_field.through
        tagged = Q(
            pk__in=through.objects.filter(
                **{f"{relation.m2m_reverse_field_name()}__in": tags}
            ).values(relation.m2m_field_name())
        )
        if not untagged:
            return self.filter(tagged)
        bare = ~Exists(through.objects.filter(**{relation.m2m_field_name(): OuterRef("pk")}))
        return self.filter(tagged | bare)

    def for_meeting(self, meeting: "Meeting") -> "OpinionQuerySet":
        """Remarks made at ``meeting``, directly or in a document covering it."""
        return self.filter(
            Q(meeting=meeting)
            | Q(source_document__in=SourceDocument.objects.filter(meetings=meeting))
        )

    def for_meetings(self, meetings) -> "OpinionQuerySet":
        """Remarks made at any of ``meetings``, directly or in a document covering one."""
        return self.filter(
            Q(meeting__in=meetings)
            | Q(source_document__in=SourceDocument.objects.filter(meetings__in=meetings))
        )

    def in_document_order(self) -> "OpinionQuerySet":
        # Imported remarks by document and position; submitted ones (no document) after.
        return self.order_by(
            F("source_document").asc(nulls_last=True),
            F("position").asc(nulls_last=True),
            "created_at",
            "pk",
        )

    def with_list_relations(self) -> "OpinionQuerySet":
        """Everything a list row shows, in a constant number of queries.

        Fetched for the page's rows after the sort rather than joined before it: a page is
        the first 50 of what may be thousands of matches, and the planner, misjudging how
        many a search matches, joined every one (13,000 rows, 280 ms at a million remarks).
        """
        return self.prefetch_related(
            models.Prefetch("theme", queryset=Theme.objects.select_related("parent__parent")),
            models.Prefetch(
                "source_document",
                queryset=SourceDocument.objects.select_related("committee").prefetch_related(
                    models.Prefetch(
                        "meetings", queryset=Meeting.objects.select_related("committee")
                    )
                ),
            ),
            models.Prefetch("meeting", queryset=Meeting.objects.select_related("committee")),
            "municipality_sizes",
            "stakeholders",
        )

    def with_card_relations(self) -> "OpinionQuerySet":
        """What a remark card shows (opinions_extras.remark_card) of its theme: the theme
        with the two levels above it, joined. Its tags follow, for a page's rows at once
        (browsing.cards.attach_tags).

        For rows read by id, the page's fifty after its ids (IdsFirstPaginator) or a theme
        page's few per node, so the join touches only them; the ids themselves are read
        without it (``values_list`` drops ``select_related``). Documents and meetings are
        left out: no card shows them (:meth:`with_list_relations` has them, for the API and
        the exports).
        """
        return self.select_related("theme__parent__parent")

    def with_page_relations(self) -> "OpinionQuerySet":
        """What one remark's own page shows: its theme with the two levels above, its
        document with the committee and the meetings in order, its meeting, its tags.

        One remark, so the theme, the document and the meeting are joined in the same row
        (there is no sort for a join to run ahead of, as in :meth:`with_list_relations`);
        the meetings and the two kinds of tag, many per remark, follow in three queries.
        """
        return self.select_related(
            "theme__parent__parent", "source_document__committee", "meeting__committee"
        ).prefetch_related(
            models.Prefetch(
                "source_document__meetings",
                queryset=Meeting.objects.select_related("committee").order_by("number"),
            ),
            "municipality_sizes",
            "stakeholders",
        )


class Opinion(models.Model):
    Status = OpinionStatus

    body = models.TextField(_("本文"))
    # The body width- and case-folded (opinions.tagging.normalize); what search matches
    # against (opinions/browsing/search.py). On PostgreSQL a trigger keeps it on every write path
    # (opinions/sql/postgresql/search.sql); save() mirrors it on the instance, and keeps it
    # on SQLite.
    search_text = models.TextField(_("検索用本文"), editable=False, default="")
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
    # Kept from the import where the source has pages (a PDF), so a citation can name it.
    source_page = models.PositiveSmallIntegerField(_("資料のページ"), null=True, blank=True)
    # Who made the remark, as the document attributes it (「山田委員」); NULL when it does
    # not say (nullable, so writers that list their columns, like the generator's COPY,
    # need not know it).
    speaker = models.CharField(_("発言者"), max_length=100, null=True, blank=True)  # noqa: DJ001
    # The remark an earlier document already had, when a later document raises it again
    # (linked at import, see opinions.imports).
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("再掲元の意見"),
    )
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
    # Incremented by every save, and on PostgreSQL by every write that changes the remark's
    # content however it is made (the same trigger): an edit made from an older version is
    # refused (see services.revise_opinion), never silently overwritten.
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)
    review_comment = models.TextField(_("事務局からのコメント"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("確認した人"),
    )
    reviewed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    # 事務局's own note while reviewing: never mailed or shown to the author, never exported.
    # A database default too, so bulk loads (opinions.generators' COPY) need not name it.
    internal_memo = models.TextField(_("内部メモ"), blank=True, default="", db_default="")
    # The one-time token of the submission form: a double click or a resubmitted POST
    # finds the remark it already created instead of creating a second one.
    submission_token = models.UUIDField(
        _("投稿トークン"), null=True, blank=True, unique=True, editable=False
    )
    # On PostgreSQL the row also carries the ids of both kinds of tags (size_ids,
    # stakeholder_ids: columns, not fields), written only by triggers and the generator's
    # COPY, for the count tables (opinions/sql/postgresql/counts.sql, opinions/browsing/counts.py).
    municipality_sizes = models.ManyToManyField(
        MunicipalitySize, related_name="opinions", blank=True, verbose_name=_("自治体規模")
    )
    stakeholders = models.ManyToManyField(
        Stakeholder, related_name="opinions", blank=True, verbose_name=_("関係者")
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    objects = OpinionQuerySet.as_manager()
    # Tag membership is part of every historical record, so a change shows field by field.
    history = HistoricalRecords(m2m_fields=[municipality_sizes, stakeholders])

    class Meta:
        verbose_name = _("意見")
        verbose_name_plural = pgettext_lazy("plural", "意見")
        ordering = [
            F("source_document").asc(nulls_last=True),
            F("position").asc(nulls_last=True),
            "created_at",
            "pk",
        ]
        permissions = [
            ("view_unpublished_opinion", _("確認待ち・非公開の意見を閲覧できる")),
            ("publish_opinion", _("意見を公開・非公開にできる")),
            ("export_opinion", _("意見を書き出せる")),
            ("change_own_opinion", _("自分の意見を編集・取り下げできる")),
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
            # Of one status and theme, newest first to the key: a remark's 関連する意見 before
            # its analysis reads the newest of its theme from here and stops early (on
            # (status, theme) alone it walked the primary key back past the other themes).
            models.Index(fields=["status", "theme", "-id"], name="opinion_status_theme_id_idx"),
            # Newest first, of one status: the list's 新しい順 (a page, or a search walked in
            # that order: estimates.read_in_order) and the admin's order, the key to the end.
            models.Index(fields=["status", "-created_at", "-id"], name="opinion_status_newest_idx"),
            # Partial on published, what the public reads (bench/results.md): the list's
            # default order, so a page is an index scan that stops after 50 rows (an
            # ascending PostgreSQL index puts NULLs last, as that order does; SQLite can't
            # declare NULLS LAST in an index).
            models.Index(
                fields=["source_document", "position", "created_at", "id"],
                condition=Q(status="published"),
                name="opinion_published_order_idx",
            ),
            # …the first remarks of each node on a theme page…
            models.Index(
                fields=["theme", "source_document", "position", "id"],
                condition=Q(status="published"),
                name="opinion_published_theme_idx",
            ),
            # …and the document and meeting facet counts, from the index alone.
            models.Index(
                fields=["source_document", "meeting"],
                condition=Q(status="published"),
                name="opinion_published_venue_idx",
            ),
        ]

    def __str__(self):
        return self.body if len(self.body) <= 40 else f"{self.body[:40]}…"

    def save(self, *args, **kwargs):
        self.search_text = normalize(self.body)
        if not self._state.adding:
            self.version += 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"} | (
                {"search_text"} if "body" in update_fields else set()
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return opinion_url(self.pk)

    @property
    def is_editable_by_author(self) -> bool:
        return self.status in OpinionStatus.editable_by_author()

    @property
    def breadcrumbs(self) -> list[Theme]:
        """Section › theme › subtheme above this remark (uses the select_related chain)."""
        nodes, node = [], self.theme
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]


def _one_tag_only():
    return Q(municipality_size__isnull=False, stakeholder__isnull=True) | Q(
        municipality_size__isnull=True, stakeholder__isnull=False
    )


class TagRuleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class TagRule(models.Model):
    """A keyword (or regular expression) whose presence in a remark suggests a tag."""

    municipality_size = models.ForeignKey(
        MunicipalitySize,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("自治体規模"),
    )
    stakeholder = models.ForeignKey(
        Stakeholder,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("関係者"),
    )
    pattern = models.CharField(_("キーワード・パターン"), max_length=200)
    is_regex = models.BooleanField(_("正規表現"), default=False)
    is_active = models.BooleanField(_("有効"), default=True)

    objects = TagRuleQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("タグ提案ルール")
        verbose_name_plural = pgettext_lazy("plural", "タグ提案ルール")
        ordering = ["municipality_size__position", "stakeholder__position", "pk"]
        constraints = [
            models.CheckConstraint(condition=_one_tag_only(), name="tagrule_exactly_one_tag"),
            models.CheckConstraint(condition=~Q(pattern=""), name="tagrule_pattern_not_empty"),
        ]

    def __str__(self):
        return f"{self.pattern} → {self.tag}"

    @property
    def tag(self) -> MunicipalitySize | Stakeholder:
        return self.municipality_size or self.stakeholder

    def clean(self):
        from django.core.exceptions import ValidationError

        from .tagging import validate_rule

        try:
            validate_rule(self.pattern, is_regex=self.is_regex)
        except ValueError as error:
            raise ValidationError({"pattern": str(error)}, code="invalid_pattern") from error
        if (self.municipality_size is None) == (self.stakeholder is None):
            raise ValidationError(
                _("自治体規模か関係者のどちらか一方を選んでください。"), code="one_tag"
            )


class TagSuggestion(models.Model):
    """A tag that ``suggest_tags --apply`` added to a remark, awaiting a curator's decision."""

    class Status(models.TextChoices):
        PENDING = "pending", _("承認待ち")
        APPROVED = "approved", _("承認")
        REJECTED = "rejected", _("却下")

    opinion = models.ForeignKey(
        Opinion, on_delete=models.CASCADE, related_name="tag_suggestions", verbose_name=_("意見")
    )
    municipality_size = models.ForeignKey(
        MunicipalitySize,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestions",
        verbose_name=_("自治体規模"),
    )
    stakeholder = models.ForeignKey(
        Stakeholder,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestions",
        verbose_name=_("関係者"),
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(_("根拠"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("提案日時"), auto_now_add=True)
    decided_at = models.DateTimeField(_("判断日時"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("判断した人"),
    )

    class Meta:
        verbose_name = _("タグの提案")
        verbose_name_plural = pgettext_lazy("plural", "タグの提案")
        ordering = ["status", "-created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=_one_tag_only(), name="tagsuggestion_exactly_one_tag"),
            # One suggestion per remark and tag, ever: a rejected tag is not suggested again.
            models.UniqueConstraint(
                fields=["opinion", "municipality_size"],
                condition=Q(municipality_size__isnull=False),
                name="tagsuggestion_unique_size",
            ),
            models.UniqueConstraint(
                fields=["opinion", "stakeholder"],
                condition=Q(stakeholder__isnull=False),
                name="tagsuggestion_unique_stakeholder",
            ),
        ]

    def __str__(self):
        return f"{self.tag}（{self.get_status_display()}）"

    @property
    def tag(self) -> MunicipalitySize | Stakeholder:
        return self.municipality_size or self.stakeholder


class TagMerge(models.Model):
    """The record of a merge: ``merged`` was folded into ``kept`` and removed."""

    class Axis(models.TextChoices):
        SIZE = "size", _("自治体規模")
        STAKEHOLDER = "stakeholder", _("関係者")

    axis = models.CharField(_("種類"), max_length=20, choices=Axis.choices)
    kept_name = models.CharField(_("残したタグ"), max_length=100)
    kept_slug = models.SlugField(_("残したタグのスラッグ"), max_length=100)
    merged_name = models.CharField(_("統合したタグ"), max_length=100)
    merged_slug = models.SlugField(_("統合したタグのスラッグ"), max_length=100)
    opinions_moved = models.PositiveIntegerField(_("移した意見の数"))
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("実行した人"),
    )
    merged_at = models.DateTimeField(_("実行日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("タグの統合記録")
        verbose_name_plural = pgettext_lazy("plural", "タグの統合記録")
        ordering = ["-merged_at", "-pk"]

    def __str__(self):
        return f"{self.merged_name} → {self.kept_name}"


class SynonymGroup(models.Model):
    """Words search treats as one: searching any of them finds all (自治体 ↔ 地方公共団体)."""

    terms = models.TextField(
        _("同義語・表記ゆれ"),
        help_text=_("1行に1語、または読点「、」かカンマで区切って入力します。"),
    )
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("同義語グループ")
        verbose_name_plural = pgettext_lazy("plural", "同義語グループ")
        ordering = ["pk"]

    def __str__(self):
        return " ↔ ".join(self.term_list)

    @property
    def term_list(self) -> list[str]:
        return [word.strip() for word in re.split(r"[\n,、，]", self.terms) if word.strip()]

    def clean(self):
        from django.core.exceptions import ValidationError

        if len(self.term_list) < 2:
            raise ValidationError({"terms": _("2語以上を入力してください。")}, code="too_few_terms")


# --- Tables kept by the database (opinions/sql/postgresql/, PostgreSQL only) --------------
# Declared here so the ORM can read them; the triggers of counts.sql and data_version.sql
# write them, never Django (managed = False: migrations neither create nor alter them).


class TagCount(models.Model):
    """Remarks per status × theme × size tags × stakeholder tags: delta rows, summed per
    cell by every read (opinions/browsing/counts.py)."""

    status = models.CharField(max_length=20)
    theme = models.ForeignKey(Theme, on_delete=models.DO_NOTHING, db_constraint=False)
    size_ids = ArrayField(models.BigIntegerField())
    stakeholder_ids = ArrayField(models.BigIntegerField())
    n = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "opinions_tagcount"

    def __str__(self):
        return f"{self.status} {self.theme_id} {self.size_ids} {self.stakeholder_ids}: {self.n:+}"


class VenueTagCount(models.Model):
    """The same cells with the document and the meeting (0 for none)."""

    status = models.CharField(max_length=20)
    theme = models.ForeignKey(Theme, on_delete=models.DO_NOTHING, db_constraint=False)
    source_document_id = models.BigIntegerField()
    meeting_id = models.BigIntegerField()
    size_ids = ArrayField(models.BigIntegerField())
    stakeholder_ids = ArrayField(models.BigIntegerField())
    n = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "opinions_venuetagcount"

    def __str__(self):
        return (
            f"{self.status} {self.theme_id} {self.source_document_id} {self.meeting_id}"
            f" {self.size_ids} {self.stakeholder_ids}: {self.n:+}"
        )


class VenueCount(models.Model):
    """Remarks per status × document × meeting (0 for none) alone: the venue facets of a
    list chosen by its venue or by nothing, from about 600 cells instead of 140,000."""

    status = models.CharField(max_length=20)
    source_document_id = models.BigIntegerField()
    meeting_id = models.BigIntegerField()
    n = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "opinions_venuecount"

    def __str__(self):
        return f"{self.status} {self.source_document_id} {self.meeting_id}: {self.n:+}"


class DataChange(models.Model):
    """One row per committed writing transaction since the last compaction: the data
    version is their count and largest id (opinions/browsing/caching.py)."""

    txid = models.BigIntegerField()  # xid8 in the database
    at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "opinions_datachange"

    def __str__(self):
        return f"{self.pk} ({self.at:%Y-%m-%d %H:%M:%S})"


class SavedSearch(models.Model):
    """A signed-in user's named list conditions, with an optional daily mail of new
    remarks that match and a private Atom feed (see opinions/saved_searches.py)."""

    class Alert(models.TextChoices):
        NONE = "none", _("通知しない")
        DAILY = "daily", _("毎日メールで知らせる")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_searches",
        verbose_name=_("利用者"),
    )
    name = models.CharField(_("名前"), max_length=100)
    # The list's query string, cleaned (no empty values, no page or sort): "?size=small".
    query = models.CharField(_("条件"), max_length=2000, blank=True)
    alert = models.CharField(
        _("新着の通知"), max_length=10, choices=Alert.choices, default=Alert.NONE
    )
    # The feed's address is its secret: feed readers cannot sign in.
    feed_token = models.UUIDField(
        _("フィードの鍵"), default=uuid.uuid4, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    notified_until = models.DateTimeField(_("通知済みの時点"), null=True, blank=True)

    class Meta:
        verbose_name = _("保存した検索")
        verbose_name_plural = pgettext_lazy("plural", "保存した検索")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_search_unique_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{opinion_list_url()}{self.query}"


# The response ledger (事務局の対応) lives in its own module; imported here so that its
# models belong to this app.
# The text analysis keeps its models in its own package (opinions/analysis/).
from .analysis.models import AnalysisIndex, RemarkAnalysis, RemarkGroup, ThemeDigest  # noqa: E402, F401
from .responses.models import (  # noqa: E402, F401
    PolicyDocument,
    Response,
    ResponseCategory,
    ResponseReference,
    ResponseRemark,
    ResponseState,
)
