"""Reads outside the list's read model (that is opinions/browsing), by domain:

- ``exports``: remarks as export records, the 「主なご意見」 document of a selection;
- ``detail``: related remarks by shared tags, theme and wording;
- ``submission``: near-duplicates of a text being written, rule-based tag suggestions.

Each function runs a fixed number of queries and takes what the user may see. The names
below are the package's interface; each lives in its domain module.
"""

from .detail import related_opinions
from .exports import ExportRecord, export_records, summary_document, summary_for
from .submission import Suggestion, near_duplicates, rules_and_bands, tag_suggestions

__all__ = [
    "ExportRecord",
    "Suggestion",
    "export_records",
    "near_duplicates",
    "related_opinions",
    "rules_and_bands",
    "summary_document",
    "summary_for",
    "tag_suggestions",
]
