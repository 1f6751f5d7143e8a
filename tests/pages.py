"""Requesting pages in tests."""

from django.core.cache import cache

from opinions.browsing import caching


def fresh_get(client, path, data=None, **extra):
    """The page computed now rather than served from the anonymous page cache, for a test
    that reads its ``response.context`` (a cached page has none: it is the HTML alone)."""
    cache.clear()
    caching.clear_local()
    return client.get(path, data, **extra)
