"""Peak memory of streaming every visible remark as CSV (``python -m bench.export_memory``).

Runs in its own process so that its peak resident set size (ru_maxrss) is the export's
alone; prints one JSON line.
"""

import json
import os
import resource
import time


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.urls import reverse

    from bench.measure import staff_client

    # Staff see every remark but withdrawn ones: the largest export there is.
    client = staff_client()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = client.get(reverse("opinions:opinion-export-csv"))
    rows = size = 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\r\n")  # the CSV's record separator (bodies hold no CR LF)
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": rows - 1,
                "megabytes": round(size / 2**20, 1),
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(peak, 1),
                "rss_before_mb": round(before, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
