"""Where a request's time goes: SQL, templates, the rest of Python.

A :class:`Probe` around a request sums

- the time of every statement Django sends (``connection.execute_wrapper``: the round trip,
  the server's work and, with psycopg's client-side cursors, the transfer of the rows);
- the time spent rendering templates (the outermost ``Template.render`` of Django's
  template backend, so an ``{% include %}`` is not counted twice), less the SQL run from
  inside a template (a lazy queryset evaluated there counts as SQL, not as rendering).

What is left of the request's wall time is Python outside templates: middleware, views,
selectors, serializers, the cache's pickling. Only the benchmark installs it
(:func:`install`); the portal's code is unchanged.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

_state = threading.local()


@dataclass
class Split:
    sql_ms: float = 0.0
    template_ms: float = 0.0  # SQL run from templates excluded
    queries: int = 0
    _template_depth: int = 0
    _sql_in_template_ms: float = 0.0


def _current() -> Split | None:
    return getattr(_state, "split", None)


def _sql_wrapper(execute, sql, params, many, context):
    split = _current()
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        if split is not None:
            elapsed = (time.perf_counter() - started) * 1000
            split.sql_ms += elapsed
            split.queries += 1
            if split._template_depth:
                split._sql_in_template_ms += elapsed


_installed = False


def install() -> None:
    """Time the outermost template renders (once per process)."""
    global _installed
    if _installed:
        return
    from django.template.backends.django import Template

    original = Template.render

    def render(self, context=None, request=None):
        split = _current()
        if split is None or split._template_depth:
            if split is not None:
                split._template_depth += 1
                try:
                    return original(self, context, request)
                finally:
                    split._template_depth -= 1
            return original(self, context, request)
        split._template_depth += 1
        started = time.perf_counter()
        sql_before = split._sql_in_template_ms
        try:
            return original(self, context, request)
        finally:
            split._template_depth -= 1
            elapsed = (time.perf_counter() - started) * 1000
            split.template_ms += elapsed - (split._sql_in_template_ms - sql_before)

    Template.render = render
    _installed = True


@contextmanager
def probe():
    """Collect a :class:`Split` for the code run inside (this thread, the default database)."""
    from django.db import connection

    install()
    split = Split()
    _state.split = split
    try:
        with connection.execute_wrapper(_sql_wrapper):
            yield split
    finally:
        _state.split = None
