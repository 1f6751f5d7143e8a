"""Pages only the benchmark serves.

- ``floor``: the least a Django view can do on this stack (every middleware, no query,
  no template). Pages are compared with it, so the machine's speed cancels out.
- ``export_csv``: a streaming CSV of the filtered list through the same OpinionFilter,
  standing in for /opinions/export.csv until that page (being written on another branch)
  is merged; ``limit`` caps the rows (the benchmark exports 10,000, and everything once
  for peak memory).
"""

import csv
from collections import defaultdict

from django.http import HttpResponse, StreamingHttpResponse

from opinions.filters import OpinionFilter
from opinions.models import Opinion
from opinions.selectors import theme_tree


def floor(request):
    return HttpResponse("ok", content_type="text/plain")


class _Echo:
    def write(self, value):
        return value


def export_rows(queryset, limit: int | None, chunk_size: int = 2000):
    """CSV lines for ``queryset``: tuples, not model instances, and the tags of each chunk
    of rows in one query per axis, so memory stays flat and a row costs microseconds
    (model instances with per-row related managers cost 1 ms a row)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["id", "theme", "body", "municipality_sizes", "stakeholders", "status"])
    themes = {node.theme.pk: node for node in theme_tree({})}
    paths = {pk: " › ".join(t.short_label for t in _trail(pk, themes)) for pk in themes}
    rows = queryset.values_list("pk", "theme_id", "body", "status")
    rows = rows[:limit] if limit else rows
    chunk = []
    # iterator() streams through a server-side cursor on PostgreSQL.
    for row in rows.iterator(chunk_size=chunk_size):
        chunk.append(row)
        if len(chunk) == chunk_size:
            yield from _chunk_lines(writer, chunk, paths)
            chunk = []
    yield from _chunk_lines(writer, chunk, paths)


def _trail(pk, nodes):
    trail, theme = [], nodes[pk].theme
    while theme is not None:
        trail.append(theme)
        theme = nodes[theme.parent_id].theme if theme.parent_id in nodes else None
    return trail[::-1]


def _tag_names(field: str, ids: list[int]) -> dict[int, list[str]]:
    relation = Opinion._meta.get_field(field)
    through = relation.remote_field.through
    names: dict[int, list[str]] = defaultdict(list)
    pairs = through.objects.filter(opinion_id__in=ids).order_by(
        f"{relation.m2m_reverse_field_name()}__position"
    )
    for opinion_id, name in pairs.values_list(
        "opinion_id", f"{relation.m2m_reverse_field_name()}__name"
    ):
        names[opinion_id].append(name)
    return names


def _chunk_lines(writer, chunk, paths):
    if not chunk:
        return
    ids = [row[0] for row in chunk]
    sizes = _tag_names("municipality_sizes", ids)
    stakeholders = _tag_names("stakeholders", ids)
    for pk, theme_id, body, status in chunk:
        yield writer.writerow(
            [pk, paths[theme_id], body, "|".join(sizes[pk]), "|".join(stakeholders[pk]), status]
        )


def export_csv(request):
    visible = Opinion.objects.visible_to(request.user).in_document_order()
    filterset = OpinionFilter(request.GET or None, queryset=visible)
    limit = int(request.GET.get("limit") or 0) or None
    response = StreamingHttpResponse(export_rows(filterset.qs, limit), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="opinions.csv"'
    return response
