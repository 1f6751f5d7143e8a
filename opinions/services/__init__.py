"""Multi-step writes, by domain. Each runs in one transaction: it happens whole or not at
all, and is retried on a deadlock or serialization failure (concurrency.retrying_atomic).

- ``curation``: tags on remarks, tag merges, the theme tree's order, status, suggestions;
- ``vocabularies``: the curated vocabularies read from tab-separated files;
- ``submission``: members' submissions, revisions and withdrawals, 事務局's review, mail.

Importing summary documents is in ``opinions.imports``; responses (対応・考え方) in
``opinions.responses.services``. The names below are the package's interface.
"""

from .curation import (
    add_tag,
    apply_suggestions,
    decide_suggestion,
    merge_tags,
    move_theme,
    move_theme_to,
    remove_tag,
    set_status,
)
from .submission import (
    EditConflict,
    NotEditable,
    changes_since,
    review_opinion,
    revise_opinion,
    save_review_notes,
    submit_opinion,
    withdraw_opinion,
)
from .vocabularies import import_tag_curation, read_tsv

__all__ = [
    "EditConflict",
    "NotEditable",
    "add_tag",
    "apply_suggestions",
    "changes_since",
    "decide_suggestion",
    "import_tag_curation",
    "merge_tags",
    "move_theme",
    "move_theme_to",
    "read_tsv",
    "remove_tag",
    "review_opinion",
    "revise_opinion",
    "save_review_notes",
    "set_status",
    "submit_opinion",
    "withdraw_opinion",
]
