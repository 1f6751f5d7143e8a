"""The secretariat's response ledger (事務局の対応): what it answers to each remark.

A Response answers one or more remarks (e-Gov groups similar remarks under one 考え方)
with a 対応区分, the 考え方 published with them, structured references into the policy
documents (反映先) and an internal memo. It is written as 下書き, confirmed by a second
事務局 member (確認済み) and then published (公開); only published responses reach
anyone without ``opinions.view_draft_response``.

Modules: ``models`` (imported by ``opinions.models``), ``selectors``, ``services``,
``forms``, ``views``, ``urls``, ``api``, ``exporters``.
"""
