"""Pages of the list and the API: the page's ids first, then its rows.

A page of the list is ``OFFSET (page − 1) × 50`` rows into the list's order. Asked as one
query, PostgreSQL reads every skipped row whole (body and search text included) to throw
it away: 7.7 s for the last page at a million remarks. The same skip over the ids alone
walks the order index (276 ms), and the page's 50 rows are then read by id (bench/results.md,
"Keyset pagination and a cheap jump"). A page in the second half of a counted list is read
from the other end, in the reversed order (the same index walked backwards), so the last
page skips nothing: every page skips at most half the list.
"""

from __future__ import annotations

from django.core.paginator import Paginator


class IdsFirstPaginator(Paginator):
    """Django's paginator whose pages read their ids first, then their rows.

    ``count``, when given, is the number of rows already counted elsewhere (the count
    tables, for the list and the API), so the paginator does not count them again.
    ``estimated``: that number is an estimate (estimates.py). A page then reads one id more
    than it shows, to know whether another page follows; the last page, once reached, makes
    the count exact, and a page past the real end (the estimate was high) counts the rows
    and shows the real last page.
    """

    def __init__(
        self, object_list, per_page, *args, count: int | None = None, estimated=False, **kwargs
    ):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.estimated = estimated and count is not None
        if count is not None:
            self.count = count  # the cached_property, set

    def _counted(self, count: int) -> None:
        self.count = count
        self.__dict__.pop("num_pages", None)  # Paginator's cached_property, from the count

    def _ids(self, bottom: int, top: int) -> list:
        """The ids of rows ``bottom``–``top`` of the counted list. Past its middle they are
        rows ``count − top``–``count − bottom`` of the reversed order, read back to front:
        the list's orders all end with the primary key, so the reversed order is the exact
        mirror of it."""
        ids = self.object_list.values_list("pk", flat=True)
        if bottom <= self.count // 2 or not self.object_list.ordered:
            return list(ids[bottom:top])
        return list(ids.reverse()[self.count - top : self.count - bottom])[::-1]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.estimated:
            ids = list(self.object_list.values_list("pk", flat=True)[bottom : top + 1])
            if not ids and number > 1:
                self.estimated = False
                self._counted(self.object_list.count())
                return self.page(self.num_pages)
            if len(ids) <= self.per_page:  # the last page: now the total is known
                self.estimated = False
                self._counted(bottom + len(ids))
            elif bottom + len(ids) > self.count:  # the estimate was low: one more page at least
                self._counted(bottom + len(ids))
            ids = ids[: self.per_page]
        else:
            if top + self.orphans >= self.count:
                top = self.count
            ids = self._ids(bottom, top)
        # The rows with what the page shows (the queryset's prefetches and annotations),
        # unordered: the ids give the order.
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


def page_number(raw: str | None) -> int:
    """A page parameter as a number to plan the page's query with: 1 unless it is a plain
    number (validating it, with a message, is the paginator's)."""
    raw = raw or "1"
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1
