"""Pages only the benchmark serves.

- ``floor``: the least a Django view can do on this stack (every middleware, no query,
  no template). Pages are compared with it, so the machine's speed cancels out.
- ``export_csv``: a streaming CSV of the filtered list through the same OpinionFilter,
  standing in for /opinions/export.csv until that page (being written on another branch)
  is merged; ``limit`` caps the rows (the benchmark exports 10,000, and everything once
  for peak memory).
"""

import csv

from django.http import HttpResponse, StreamingHttpResponse

from opinions.filters import OpinionFilter
from opinions.models import Opinion


def floor(request):
    return HttpResponse("ok", content_type="text/plain")


class _Echo:
    def write(self, value):
        return value


def export_rows(queryset, limit: int | None):
    writer = csv.writer(_Echo())
    yield writer.writerow(["id", "theme", "body", "municipality_sizes", "stakeholders", "status"])
    rows = queryset[:limit] if limit else queryset
    # iterator() streams through a server-side cursor; prefetching happens per chunk.
    for opinion in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                opinion.pk,
                " › ".join(node.short_label for node in opinion.breadcrumbs),
                opinion.body,
                "|".join(tag.name for tag in opinion.municipality_sizes.all()),
                "|".join(tag.name for tag in opinion.stakeholders.all()),
                opinion.status,
            ]
        )


def export_csv(request):
    visible = Opinion.objects.visible_to(request.user).with_list_relations().in_document_order()
    filterset = OpinionFilter(request.GET or None, queryset=visible)
    limit = int(request.GET.get("limit") or 0) or None
    response = StreamingHttpResponse(export_rows(filterset.qs, limit), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="opinions.csv"'
    return response
