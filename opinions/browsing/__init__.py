"""The list's read model: what the list, its facets, theme pages, the cross-tab, exports
and the API read, and how it is counted and cached.

Layers point down; a module uses only those below it:

- ``filters``: the FilterSet; validates a request into a ``Selection`` (nothing below
  reads the request or calls back into it);
- ``facets``, ``themes``, ``crosstab``, ``hits``: the pages' reads (totals and facet
  options, the theme tree and theme pages, the cross-tab, a remark among its hits);
  ``paging``: a page of the list or the API, its ids first, then its rows;
- ``selection``: the frozen value of what was chosen — narrows a queryset, gives the
  count scope, its cache key part and the addresses one change away;
- ``counts``: the count tables (and the same counts from the remarks elsewhere);
  ``search``: Japanese full-text search; ``caching``: pages and counts per data version;
  ``vocabularies``: the names facets and cards give (themes, tags, documents, meetings),
  read once per data version;
- ``axes``: the registry of the list's filters, each declared once (ORM and SQL side by
  side), which every module above iterates.
"""
