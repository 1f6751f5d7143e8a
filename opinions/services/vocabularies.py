"""The curated vocabularies (municipality sizes, stakeholders, their rules) read from
tab-separated files, in one transaction."""

from __future__ import annotations

import csv
from pathlib import Path

from ..concurrency import retrying_atomic
from ..models import (
    MunicipalitySize,
    SourceDocument,
    Stakeholder,
    TagRule,
)

# --- Curated vocabularies from tab-separated files ---------------------------------------


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _population(value: str) -> int | None:
    return int(value) if value.strip() else None


@retrying_atomic
def import_tag_curation(
    *,
    sizes: list[dict[str, str]],
    stakeholders: list[dict[str, str]],
    rules: list[dict[str, str]],
    assignments: list[dict[str, str]],
    document: SourceDocument,
) -> dict[str, int]:
    """Write the curated vocabularies, their rules and the tags of ``document``'s remarks.

    Vocabularies are upserted by slug; the rules of the listed tags are replaced; each
    listed remark (by position) gets exactly the listed tags. Idempotent.
    """
    size_by_slug = {
        row["slug"]: MunicipalitySize.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "description": row["description"],
                "position": int(row["position"]),
                "min_population": _population(row["min_population"]),
                "max_population": _population(row["max_population"]),
            },
        )[0]
        for row in sizes
    }
    stakeholder_by_slug = {
        row["slug"]: Stakeholder.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "description": row["description"],
                "position": int(row["position"]),
                "group": row["group"],
            },
        )[0]
        for row in stakeholders
    }
    axes = {"size": size_by_slug, "stakeholder": stakeholder_by_slug}
    TagRule.objects.filter(municipality_size__in=size_by_slug.values()).delete()
    TagRule.objects.filter(stakeholder__in=stakeholder_by_slug.values()).delete()
    for row in rules:
        tag = axes[row["axis"]][row["slug"]]
        TagRule.objects.create(
            pattern=row["pattern"],
            is_regex=row["is_regex"] == "1",
            **{type(tag).rule_field: tag},
        )

    def slugs(value: str) -> list[str]:
        return [slug.strip() for slug in value.split(",") if slug.strip()]

    opinions = {opinion.position: opinion for opinion in document.opinions.all()}
    for row in assignments:
        opinion = opinions[int(row["position"])]
        opinion.municipality_sizes.set(
            [size_by_slug[slug] for slug in slugs(row["municipality_sizes"])]
        )
        opinion.stakeholders.set([stakeholder_by_slug[slug] for slug in slugs(row["stakeholders"])])
    return {
        "sizes": len(size_by_slug),
        "stakeholders": len(stakeholder_by_slug),
        "rules": len(rules),
        "opinions": len(assignments),
    }
