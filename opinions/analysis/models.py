"""What the analysis stores: one row per remark, the corpus index, and theme digests.

Every row says which method and version produced it, so a page never mixes vectors or
groups of two methods, and a change of method is a recompute (``manage.py analyse``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RemarkAnalysis(models.Model):
    """A remark's embedding, content terms and nearest published remarks.

    ``vector`` is float16 bytes (768 for 384 dimensions), a BinaryField so PostgreSQL
    (bytea) and SQLite (blob) store it alike. ``cell`` is the remark's coarse cell (the
    nearest centroid of :class:`AnalysisIndex`): a nearest-neighbour search reads only the
    remarks of the few cells nearest the query, not all of them.
    """

    opinion = models.OneToOneField(
        "opinions.Opinion",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="analysis",
        verbose_name=_("意見"),
    )
    method = models.CharField(_("手法"), max_length=100)
    vector = models.BinaryField(_("ベクトル"))
    cell = models.PositiveIntegerField(_("区画"), default=0)
    # Distinct content terms (normalized morphemes) in order of appearance.
    terms = models.JSONField(_("語"), default=list)
    # [[opinion id, cosine], …]: the nearest published remarks, best first.
    related = models.JSONField(_("関連する意見"), default=list)
    computed_at = models.DateTimeField(_("計算日時"), auto_now=True)

    class Meta:
        verbose_name = _("意見の分析")
        verbose_name_plural = pgettext_lazy("plural", "意見の分析")
        indexes = [models.Index(fields=["method", "cell"], name="remarkanalysis_cell_idx")]

    def __str__(self):
        return f"{self.opinion_id} ({self.method})"


class AnalysisIndex(models.Model):
    """The corpus statistics of one full computation: the coarse cells' centroids and the
    document frequency of each term (for keyword weights). The newest row is in force."""

    method = models.CharField(_("手法"), max_length=100)
    centroids = models.BinaryField(_("区画の重心"))
    documents = models.PositiveIntegerField(_("意見数"))
    document_frequency = models.JSONField(_("語の文書頻度"), default=dict)
    computed_at = models.DateTimeField(_("計算日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("分析の索引")
        verbose_name_plural = pgettext_lazy("plural", "分析の索引")
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.method} {self.computed_at:%Y-%m-%d %H:%M}"


class ThemeDigest(models.Model):
    """What a theme node's published remarks are about, extractively: keywords against
    the whole committee, the most central remarks, and 「重なる意見」 (near-identical points
    raised more than once). ``fingerprint`` is the set of remarks (and their versions) it
    was computed from: a recompute leaves an unchanged theme, and staff's edits, alone."""

    theme = models.OneToOneField(
        "opinions.Theme", on_delete=models.CASCADE, related_name="digest", verbose_name=_("テーマ")
    )
    method = models.CharField(_("手法"), max_length=100)
    version = models.CharField(_("版"), max_length=60)
    fingerprint = models.CharField(_("入力の指紋"), max_length=64)
    remarks = models.PositiveIntegerField(_("意見数"))
    # [[term, weight], …], most characteristic first.
    keywords = models.JSONField(_("特徴語"), default=list)
    central = models.JSONField(_("中心的な意見"), default=list)  # opinion ids
    overlaps = models.JSONField(_("重なる意見"), default=list)  # [[opinion id, …], …]
    computed_at = models.DateTimeField(_("計算日時"), auto_now=True)

    class Meta:
        verbose_name = _("テーマの要約")
        verbose_name_plural = pgettext_lazy("plural", "テーマの要約")

    def __str__(self):
        return f"{self.theme} ({self.method} {self.version})"


class RemarkGroup(models.Model):
    """A group of similar remarks within a theme (k-means with a fixed seed), labelled by
    its keywords and its most central remark. Staff may rename it (``label``) or merge
    groups (admin action); both last until the theme's remarks change."""

    digest = models.ForeignKey(
        ThemeDigest, on_delete=models.CASCADE, related_name="groups", verbose_name=_("テーマの要約")
    )
    position = models.PositiveIntegerField(_("並び順"))
    label = models.CharField(
        _("名前"), max_length=100, blank=True, help_text=_("空欄なら特徴語を名前として表示します")
    )
    keywords = models.JSONField(_("特徴語"), default=list)  # [term, …]
    central = models.ForeignKey(
        "opinions.Opinion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("中心的な意見"),
    )
    members = models.JSONField(_("意見"), default=list)  # opinion ids, most central first
    # len(members), so that the theme page need not read the lists.
    size = models.PositiveIntegerField(_("意見の数"), default=0)

    class Meta:
        verbose_name = _("意見のまとまり")
        verbose_name_plural = pgettext_lazy("plural", "意見のまとまり")
        ordering = ["digest", "position"]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self) -> str:
        return self.label or "・".join(self.keywords[:3])
