"""What a worker does once, before its first request: load what every request uses, then
keep it out of the garbage collector's way.

Python's full collection (generation 2) walks every container object the process holds,
long-lived or not, and runs every few requests here. At a million remarks those pauses were
the pages' slow tail: caches emptied before each request, the API list took 36 ms at p50 and
117 ms at p95, a theme page 71 and 145 (bench/results.md, "Garbage collection pauses").
``gc.freeze()`` moves every object that exists at that moment — Django, the URLconf and
the views it imports, the compiled templates — into the permanent generation, which no
collection walks; what requests create is collected as before. (The technique of
gc.freeze's documentation, used here for the pauses rather than for copy-on-write.)
"""

from __future__ import annotations

import gc
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.urls import get_resolver


def _template_names() -> list[str]:
    """Every page template of the project's template directories."""
    names = []
    for directory in settings.TEMPLATES[0].get("DIRS", []):
        root = Path(directory)
        names += [str(path.relative_to(root)) for path in sorted(root.rglob("*.html"))]
    return names


def settle() -> int:
    """Import every view, compile every template, then freeze what the process holds;
    the number of objects frozen. A template that does not compile stops the worker here,
    not its first visitor."""
    get_resolver().url_patterns  # noqa: B018 - imports the views behind every URL
    engine = engines["django"]
    for name in _template_names():
        engine.get_template(name)  # compiled once, kept by the cached loader
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
