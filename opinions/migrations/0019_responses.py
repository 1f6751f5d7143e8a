"""The response ledger (事務局の対応): its tables, the seeded 対応区分, the roles' new
permissions and the data-version triggers on the tables public pages show (declared in
opinions/sql/postgresql/responses.sql and sqlite/responses.sql).

Frozen like 0003: a later change of roles is a new migration.
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from opinions.dbobjects import LoadSQL
from opinions.migration_ops import create_permissions_now

CATEGORIES = [
    ("反映済み", "reflected", "ご意見を踏まえ、政策文書に反映したもの"),
    ("一部反映", "partly-reflected", "ご意見の一部を政策文書に反映したもの"),
    ("今後の検討課題", "future-study", "今後の検討の参考とするもの"),
    ("参考として承る", "noted", "ご意見として参考に承るもの"),
    ("対応しない", "not-adopted", "反映しないもの（理由は考え方に記載）"),
]

NEW_MODELS = [
    "responsecategory",
    "policydocument",
    "response",
    "responseremark",
    "responsereference",
    "historicalresponsecategory",
    "historicalpolicydocument",
    "historicalresponse",
    "historicalresponseremark",
    "historicalresponsereference",
]

# Role -> the permissions this migration adds to it.
ROLE_PERMISSIONS = {
    "管理者": [
        *[
            f"{action}_{model}"
            for model in NEW_MODELS
            for action in ("add", "change", "delete", "view")
        ],
        "view_draft_response",
        "confirm_response",
        "publish_response",
    ],
    "事務局": [
        *[f"view_{model}" for model in NEW_MODELS],
        "add_response",
        "change_response",
        "add_policydocument",
        "change_policydocument",
        "view_draft_response",
        "confirm_response",
        "publish_response",
    ],
    "委員": [],
}

def seed_categories(apps, schema_editor):
    ResponseCategory = apps.get_model("opinions", "ResponseCategory")
    for position, (name, slug, description) in enumerate(CATEGORIES, start=1):
        ResponseCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )


def grant(apps, schema_editor):
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="opinions", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    codenames = {codename for codenames in ROLE_PERMISSIONS.values() for codename in codenames}
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="opinions", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0018_import_identity"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PolicyDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200, unique=True, verbose_name="題名")),
                (
                    "short_title",
                    models.CharField(
                        blank=True,
                        help_text="書き出しの反映先欄に使う短い名前",
                        max_length=60,
                        verbose_name="略称",
                    ),
                ),
                ("url", models.URLField(blank=True, verbose_name="URL")),
                ("published_on", models.DateField(blank=True, null=True, verbose_name="公表日")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
            ],
            options={
                "verbose_name": "政策文書",
                "verbose_name_plural": "政策文書",
                "ordering": ["position", "title"],
            },
        ),
        migrations.CreateModel(
            name="ResponseCategory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50, unique=True, verbose_name="名称")),
                ("slug", models.SlugField(unique=True, verbose_name="スラッグ")),
                ("description", models.TextField(blank=True, verbose_name="説明")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
                (
                    "is_active",
                    models.BooleanField(
                        default=True,
                        help_text="無効にすると入力画面の選択肢から外れます（付いた対応区分は残ります）",
                        verbose_name="有効",
                    ),
                ),
            ],
            options={
                "verbose_name": "対応区分",
                "verbose_name_plural": "対応区分",
                "ordering": ["position", "name"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalPolicyDocument",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(db_index=True, max_length=200, verbose_name="題名")),
                (
                    "short_title",
                    models.CharField(
                        blank=True,
                        help_text="書き出しの反映先欄に使う短い名前",
                        max_length=60,
                        verbose_name="略称",
                    ),
                ),
                ("url", models.URLField(blank=True, verbose_name="URL")),
                ("published_on", models.DateField(blank=True, null=True, verbose_name="公表日")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 政策文書",
                "verbose_name_plural": "historical 政策文書",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalResponseCategory",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(db_index=True, max_length=50, verbose_name="名称")),
                ("slug", models.SlugField(verbose_name="スラッグ")),
                ("description", models.TextField(blank=True, verbose_name="説明")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
                (
                    "is_active",
                    models.BooleanField(
                        default=True,
                        help_text="無効にすると入力画面の選択肢から外れます（付いた対応区分は残ります）",
                        verbose_name="有効",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 対応区分",
                "verbose_name_plural": "historical 対応区分",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Response",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reasoning", models.TextField(blank=True, verbose_name="考え方")),
                (
                    "memo",
                    models.TextField(
                        blank=True,
                        help_text="事務局の中だけで使います。公開されません。",
                        verbose_name="内部メモ",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "下書き"),
                            ("confirmed", "確認済み"),
                            ("published", "公開"),
                        ],
                        default="draft",
                        max_length=20,
                        verbose_name="状態",
                    ),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="確認日時"),
                ),
                (
                    "published_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="公開日時"),
                ),
                (
                    "version",
                    models.PositiveIntegerField(default=1, editable=False, verbose_name="版"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="作成日時")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新日時")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="作成者",
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="確認者",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="opinions.responsecategory",
                        verbose_name="対応区分",
                    ),
                ),
            ],
            options={
                "verbose_name": "事務局の対応",
                "verbose_name_plural": "事務局の対応",
                "ordering": ["pk"],
                "permissions": [
                    ("view_draft_response", "下書き・確認済みの対応と内部メモを閲覧できる"),
                    ("confirm_response", "ほかの人が書いた対応を確認できる"),
                    ("publish_response", "確認済みの対応を公開できる"),
                ],
            },
        ),
        migrations.CreateModel(
            name="HistoricalResponseRemark",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "answered_version",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="対応時の意見の版"
                    ),
                ),
                (
                    "added_at",
                    models.DateTimeField(blank=True, editable=False, verbose_name="追加日時"),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "opinion",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="opinions.opinion",
                        verbose_name="意見",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="opinions.response",
                        verbose_name="対応",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 対応の対象",
                "verbose_name_plural": "historical 対応の対象",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalResponseReference",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "section",
                    models.CharField(blank=True, max_length=200, verbose_name="章・節・項"),
                ),
                ("page", models.PositiveIntegerField(blank=True, null=True, verbose_name="ページ")),
                ("url", models.URLField(blank=True, verbose_name="URL")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="opinions.policydocument",
                        verbose_name="政策文書",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="opinions.response",
                        verbose_name="対応",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 反映先",
                "verbose_name_plural": "historical 反映先",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalResponse",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("reasoning", models.TextField(blank=True, verbose_name="考え方")),
                (
                    "memo",
                    models.TextField(
                        blank=True,
                        help_text="事務局の中だけで使います。公開されません。",
                        verbose_name="内部メモ",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "下書き"),
                            ("confirmed", "確認済み"),
                            ("published", "公開"),
                        ],
                        default="draft",
                        max_length=20,
                        verbose_name="状態",
                    ),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="確認日時"),
                ),
                (
                    "published_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="公開日時"),
                ),
                (
                    "version",
                    models.PositiveIntegerField(default=1, editable=False, verbose_name="版"),
                ),
                (
                    "created_at",
                    models.DateTimeField(blank=True, editable=False, verbose_name="作成日時"),
                ),
                (
                    "updated_at",
                    models.DateTimeField(blank=True, editable=False, verbose_name="更新日時"),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="作成者",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reviewer",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="確認者",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="opinions.responsecategory",
                        verbose_name="対応区分",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 事務局の対応",
                "verbose_name_plural": "historical 事務局の対応",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="ResponseRemark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "answered_version",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="対応時の意見の版"
                    ),
                ),
                ("added_at", models.DateTimeField(auto_now_add=True, verbose_name="追加日時")),
                (
                    "opinion",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="response_link",
                        to="opinions.opinion",
                        verbose_name="意見",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="opinions.response",
                        verbose_name="対応",
                    ),
                ),
            ],
            options={
                "verbose_name": "対応の対象",
                "verbose_name_plural": "対応の対象",
                "ordering": ["opinion__source_document", "opinion__position", "opinion_id"],
            },
        ),
        migrations.AddField(
            model_name="response",
            name="remarks",
            field=models.ManyToManyField(
                related_name="responses",
                through="opinions.ResponseRemark",
                to="opinions.opinion",
                verbose_name="対象の意見",
            ),
        ),
        migrations.CreateModel(
            name="ResponseReference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "section",
                    models.CharField(blank=True, max_length=200, verbose_name="章・節・項"),
                ),
                ("page", models.PositiveIntegerField(blank=True, null=True, verbose_name="ページ")),
                ("url", models.URLField(blank=True, verbose_name="URL")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="並び順")),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="references",
                        to="opinions.policydocument",
                        verbose_name="政策文書",
                    ),
                ),
                (
                    "response",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="references",
                        to="opinions.response",
                        verbose_name="対応",
                    ),
                ),
            ],
            options={
                "verbose_name": "反映先",
                "verbose_name_plural": "反映先",
                "ordering": ["response", "position", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("page__isnull", True), ("page__gte", 1), _connector="OR"
                        ),
                        name="reference_page_positive",
                    )
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["draft", "confirmed", "published"])),
                name="response_state_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("state", "draft"),
                    models.Q(
                        ("category__isnull", False),
                        ("reviewed_at__isnull", False),
                        ("reviewer__isnull", False),
                        models.Q(("reviewer", models.F("author")), _negated=True),
                        models.Q(("reasoning", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="response_reviewed_by_another",
            ),
        ),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state", "published"), _negated=True),
                    ("published_at__isnull", False),
                    _connector="OR",
                ),
                name="response_published_has_date",
            ),
        ),
        migrations.RunPython(seed_categories, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
        # The data-version triggers on the tables public pages show (sql/*/responses.sql).
        LoadSQL("postgresql", "responses"),
        LoadSQL("sqlite", "responses"),
    ]
