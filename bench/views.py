"""Pages only the benchmark serves.

- ``floor``: the least a Django view can do on this stack (every middleware, no query,
  no template). Pages are compared with it, so the machine's speed cancels out.
"""

from django.http import HttpResponse


def floor(request):
    return HttpResponse("ok", content_type="text/plain")
