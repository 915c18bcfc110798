"""Migration operations of the project's own."""

from django.db.migrations.operations.base import Operation


class SetFillfactor(Operation):
    """
    Keep `percent` of each page of a model's table filled on insert (PostgreSQL's `fillfactor`),
    leaving the rest for new versions of rows updated often, which then stay on their page.
    Applies to pages written from now on; other databases ignore it. Undone by filling pages whole.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, percent: int):
        self.model_name = model_name
        self.percent = int(percent)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.percent], {}

    def state_forwards(self, app_label, state):
        pass  # the model's fields and options do not change

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._set(app_label, schema_editor, to_state, self.percent)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._set(app_label, schema_editor, to_state, 100)

    def _set(self, app_label, schema_editor, state, percent: int) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {percent})")

    def describe(self):
        return f"Keep {100 - self.percent} % of each page of {self.model_name} free for row updates"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name.lower()}_fillfactor"
