"""A database router for the tables the database itself keeps (the unmanaged models in
models.py: count tables and data-version rows, written by triggers only)."""


class DerivedTablesRouter:
    """Never dumped or loaded: ``dumpdata`` leaves them out and ``loaddata`` skips them
    (the triggers rebuild them from the remarks as those are loaded), and nothing migrates
    them."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        model = hints.get("model")
        if model is not None and not model._meta.managed:
            return False
        return None
