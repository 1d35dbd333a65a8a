"""Hot single-model queries, compiled to SQL once per process.

Django compiles a queryset anew each time it is evaluated; for the few queries every REST call
or process start runs, that costs more CPU than the database takes to answer them. A
``CompiledQuery`` compiles its queryset once, with placeholder values, then runs that SQL with
the real values and builds the instance as the ORM's own iterable does: the values converted by
their fields' converters, ``Model.from_db`` with the columns selected, the others deferred.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet, sql


@dataclass(frozen=True)
class _Compiled[M: Model]:
    model: type[M]
    sql: str
    names: list[str | None]  # each parameter's placeholder name, None: a constant
    params: list[Any]
    attnames: list[str]  # the selected columns' attributes, in the row's order
    converters: list[tuple[int, list[Callable[..., Any]], Any]]  # (position, converters, column)


class CompiledQuery[M: Model]:
    """``build(**placeholders)`` compiled once; ``first(**values)`` runs it with ``values``.

    Each placeholder must be a value that the query passes to the database unchanged and that
    appears nowhere else among its parameters (an unlikely number or string); ``values`` must
    be of the types the database gets (an ``int`` for an integer key). The query selects one
    model's columns: no ``select_related``, annotations or extra columns.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **placeholders: object) -> None:
        self.build = build
        self.placeholders = placeholders
        self.compiled: _Compiled[M] | None = None

    def _compile(self) -> _Compiled[M]:
        queryset = self.build(**self.placeholders)
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info or {}
        if klass_info.get("related_klass_infos") or len(klass_info.get("select_fields", ())) != len(
            compiler.select
        ):
            raise ImproperlyConfigured("A compiled query selects one model's columns only.")
        names: list[str | None] = []
        for param in params:
            matching = [name for name, value in self.placeholders.items() if value == param]
            names.append(matching[0] if matching else None)
        for name in self.placeholders:
            if names.count(name) != 1:
                raise ImproperlyConfigured(f"Placeholder {name!r} is not one parameter of {sql}")
        columns = [column for column, _sql, _alias in compiler.select]
        converters = compiler.get_converters(columns)
        return _Compiled(
            model=queryset.model,
            sql=sql,
            names=names,
            params=list(params),
            attnames=[column.target.attname for column in columns],
            converters=[
                (position, functions, column)
                for position, (functions, column) in sorted(converters.items())
            ],
        )

    def first(self, **values: Any) -> M | None:
        if self.compiled is None:
            self.compiled = self._compile()
        compiled = self.compiled
        bound = [
            values[name] if name else param
            for name, param in zip(compiled.names, compiled.params, strict=True)
        ]
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, bound)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = list(row)
            for position, functions, column in compiled.converters:
                for convert in functions:
                    row[position] = convert(row[position], column, connection)
        return compiled.model.from_db(DEFAULT_DB_ALIAS, compiled.attnames, row)


class CompiledInsert[M: Model]:
    """The INSERT ``save()`` sends for a new object of ``model`` (every local concrete field, no
    RETURNING), compiled once per database: what is left to do per object is what ``save()``
    does to the values, each field's ``pre_save(add=True)`` (which sets the auto dates on the
    object) and ``get_db_prep_save``.

    For objects whose values are all plain (no expression, no default left to the database):
    the caller checks that first (``plain``), as those need ``save()``'s RETURNING."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = [field for field in model._meta.local_concrete_fields if not field.generated]
        self.statements: dict[str, str] = {}

    def plain(self, obj: M) -> bool:
        return obj.pk is not None and not any(
            hasattr(getattr(obj, field.attname), "resolve_expression") for field in self.fields
        )

    def as_sql(self, obj: M, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        statement = self.statements.get(connection.alias)
        if statement is None:
            query = sql.InsertQuery(self.model)
            query.insert_values(self.fields, [obj])
            [(statement, params)] = query.get_compiler(connection=connection).as_sql()
            if len(params) != len(self.fields) or any(
                getattr(field, "get_placeholder_sql", None) for field in self.fields
            ):
                raise ImproperlyConfigured(f"{self.model} has a field with its own placeholder.")
            self.statements[connection.alias] = statement
            return statement, list(params)
        return statement, [
            field.get_db_prep_save(field.pre_save(obj, True), connection) for field in self.fields
        ]
