"""Expression indexes on one key of a JSON column.

Apps keep the values of user-defined fields in one JSON column per row (the CRM's custom
fields, a list's properties) and index a field's key when people filter and sort on it: this
is how both create and drop those indexes inside the transaction of the definition's change.
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import F, Index, lookups
from django.db.models.fields.json import HasKey, KeyTransform


class ObjectKey(KeyTransform):
    """A key of a JSON object, also when the key is all digits (a list's property values are
    keyed by the property's id): Django reads such a key as an array index (``$[5]``, ``-> 5``),
    which finds nothing in an object."""

    def _get_json_path(self, connection: Any, key_transforms: Any) -> str:
        if key_transforms is None:
            return "$"
        return "$" + "".join(f".{json.dumps(str(key))}" for key in key_transforms)

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        if len(key_transforms) > 1:
            return super().as_postgresql(compiler, connection)
        return f"({lhs} {self.postgres_operator} %s)", (*params, self.key_name)


@ObjectKey.register_lookup
class ObjectKeyIsNull(lookups.IsNull):
    """``isnull`` as "the object has no such key" (Django's own asks for an array index)."""

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        sql, params = compiler.compile(HasKey(self.lhs.lhs, self.lhs.key_name))
        return (f"NOT ({sql})" if self.rhs else sql), params


def key_indexes(*, column: str, key: str, name: str, leading: Sequence[str] = ()) -> list[Index]:
    """The key's two indexes, after the ``leading`` columns: the key then the id ascending,
    and both descending with empty values last. A btree read backwards puts NULLs first, so
    a list sorted either way with its empty values at the end needs one of each; the id makes
    the order total, as the list's ``ORDER BY key, id`` has it."""
    value = ObjectKey(key, column)
    # SQLite takes no NULLS LAST in an index (and orders NULLs first, so last descending).
    nulls_last = True if connection.vendor == "postgresql" else None
    first = [F(column_name) for column_name in leading]
    return [
        Index(*first, value, F("id"), name=name),
        Index(*first, value.desc(nulls_last=nulls_last), F("id").desc(), name=f"{name}_desc"),
    ]


def key_indexes_sync(*, model: type[models.Model], indexes: Sequence[Index], wanted: bool) -> None:
    """Creates the indexes (``wanted``) or drops them, in the caller's transaction: both
    databases change their schema transactionally."""
    with connection.cursor() as cursor:
        present = set(connection.introspection.get_constraints(cursor, model._meta.db_table))
    # Not entered as a context: SQLite's editor refuses to enter inside a transaction (it
    # would turn off foreign key checks); a plain CREATE/DROP INDEX needs none of that.
    editor = connection.schema_editor()
    editor.deferred_sql = []
    for index in indexes:
        if wanted == (index.name in present):
            continue
        statement = index.create_sql(model, editor) if wanted else index.remove_sql(model, editor)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # PostgreSQL alters no table with deferred foreign key checks pending (rows
                # written earlier in the transaction): run them now, as Django's own schema
                # editor does.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(str(statement))
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
