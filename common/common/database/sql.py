"""A model's names in SQL, for the raw statements each app keeps in its ``queries.py``.

Raw SQL earns its keep on the saga's hot path, where the ORM costs several times a statement's own price.
Its table and column names come from the models' ``_meta``, read once when a ``queries.py`` is imported:
a renamed field or table changes the statements without an edit there, and a field that is gone fails at
import. Each ``queries.py`` has a test that runs every statement against the real test database.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, models


@dataclass(frozen=True)
class SqlNames:
    """A model's table and columns, quoted; columns and types by field name and attribute name alike
    (``category`` and ``category_id``)."""

    table: str
    column: Mapping[str, str]
    db_type: Mapping[str, str]  # the column's type, for casts such as ``%s::bigint[]``

    def columns(self, names: Iterable[str], *, alias: str = "") -> str:
        """``"a", "b"`` (or ``alias."a", alias."b"``) for a column list."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + self.column[name] for name in names)


def sql_names(model: type[models.Model]) -> SqlNames:
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    return SqlNames(
        table=quote(model._meta.db_table),
        column={key: quote(field.column) for field in fields for key in (field.name, field.attname)},
        db_type={key: str(field.db_type(connection)) for field in fields for key in (field.name, field.attname)},
    )
