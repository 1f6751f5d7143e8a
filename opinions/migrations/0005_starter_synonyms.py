"""A starter set of synonym groups for search; curators edit them in the admin."""

from django.db import migrations

GROUPS = [
    ("自治体\n地方公共団体\n地方自治体\n市町村", "行政の主体の言い換え"),
    ("首長\n市町村長\n市長\n町長\n村長\n知事", "首長の言い換え"),
    ("東京圏\n首都圏", ""),
    ("東京一極集中\n一極集中", ""),
    ("若者\n若い世代\n若年層\n若い人", ""),
    ("高校\n高等学校", ""),
    ("子供\n子ども\nこども", "表記ゆれ"),
    ("AI\n人工知能", ""),
    ("IT\nICT\n情報通信技術", ""),
    ("KPI\n重要業績評価指標", ""),
    ("SDGs\n持続可能な開発目標", ""),
    ("デジタルガバメント\n電子政府\n行政のデジタル化", ""),
    ("関係人口\n移住者\nUターン", "地域の外から関わる人材"),
    ("NPO\n地域運営組織", ""),
]


def create_groups(apps, schema_editor):
    SynonymGroup = apps.get_model("opinions", "SynonymGroup")
    for terms, note in GROUPS:
        SynonymGroup.objects.get_or_create(terms=terms, defaults={"note": note})


def remove_groups(apps, schema_editor):
    SynonymGroup = apps.get_model("opinions", "SynonymGroup")
    SynonymGroup.objects.filter(terms__in=[terms for terms, _ in GROUPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("opinions", "0004_search")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
