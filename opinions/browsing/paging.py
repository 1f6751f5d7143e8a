"""Pages of the list and the API: the page's ids first, then its rows.

A page of the list is ``OFFSET (page − 1) × 50`` rows into the list's order. Asked as one
query, PostgreSQL reads every skipped row whole (body and search text included) to throw
it away: 7.7 s for the last page at a million remarks. The same skip over the ids alone
walks the order index (276 ms), and the page's 50 rows are then read by id (bench/results.md,
"Keyset pagination and a cheap jump").
"""

from __future__ import annotations

from django.core.paginator import Paginator


class IdsFirstPaginator(Paginator):
    """Django's paginator whose pages read their ids first, then their rows.

    ``count``, when given, is the number of rows already counted elsewhere (the count
    tables, for the list and the API), so the paginator does not count them again.
    """

    def __init__(self, object_list, per_page, *args, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.count = count  # the cached_property, set

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        # The rows with what the page shows (the queryset's prefetches and annotations),
        # unordered: the ids give the order.
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)
