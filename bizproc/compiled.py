"""Hot single-model queries, compiled to SQL once per process.

Django compiles a queryset anew each time it is evaluated; for the few queries every REST call
or process start runs, that costs more CPU than the database takes to answer them. A
``CompiledQuery`` compiles its queryset once, with placeholder values, then runs that SQL with
the real values and builds the instance as the ORM's own iterable does: the values converted by
their fields' converters, ``Model.from_db`` with the columns selected, the others deferred.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet, sql
from django.db.models.query import RelatedPopulator, get_related_populators
from django.db.models.sql import UpdateQuery


def _placeholder_names(
    sql: str, params: Sequence[Any], placeholders: Mapping[str, object]
) -> list[str | None]:
    """Each parameter's placeholder name, None for a constant; each placeholder must be one
    parameter."""
    names: list[str | None] = []
    for param in params:
        matching = [name for name, value in placeholders.items() if value == param]
        names.append(matching[0] if matching else None)
    for name in placeholders:
        if names.count(name) != 1:
            raise ImproperlyConfigured(f"Placeholder {name!r} is not one parameter of {sql}")
    return names


@dataclass(frozen=True)
class _Compiled[M: Model]:
    model: type[M]
    sql: str
    names: list[str | None]  # each parameter's placeholder name, None: a constant
    params: list[Any]
    attnames: list[str]  # the model's selected columns' attributes, in the row's order
    converters: list[tuple[int, list[Callable[..., Any]], Any]]  # (position, converters, column)
    related: list[RelatedPopulator]  # select_related()'s, each from its columns of the row


class CompiledQuery[M: Model]:
    """``build(**placeholders)`` compiled once; ``first(**values)`` runs it with ``values``.

    Each placeholder must be a value that the query passes to the database unchanged and that
    appears nowhere else among its parameters (an unlikely number or string); ``values`` must
    be of the types the database gets (an ``int`` for an integer key). The query selects a
    model's columns, and those of the objects its ``select_related()`` names, which are built
    and attached as the ORM does: no annotations or extra columns.
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
        own = list(klass_info.get("select_fields", ()))
        if compiler.annotation_col_map or not own or own != list(range(len(own))):
            raise ImproperlyConfigured(
                "A compiled query selects a model's columns (and its select_related()'s) only."
            )
        names = _placeholder_names(sql, params, self.placeholders)
        columns = [column for column, _sql, _alias in compiler.select]
        converters = compiler.get_converters(columns)
        return _Compiled(
            model=queryset.model,
            sql=sql,
            names=names,
            params=list(params),
            attnames=[column.target.attname for column in columns[: len(own)]],
            related=get_related_populators(
                klass_info,
                compiler.select,
                DEFAULT_DB_ALIAS,
                queryset._fetch_mode,  # type: ignore[attr-defined]
            ),
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
        if not compiled.related:
            return compiled.model.from_db(DEFAULT_DB_ALIAS, compiled.attnames, row)
        instance = compiled.model.from_db(
            DEFAULT_DB_ALIAS, compiled.attnames, row[: len(compiled.attnames)]
        )
        for populator in compiled.related:
            populator.populate(row, instance)
        return instance


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


class CompiledUpdate[M: Model]:
    """``build(**placeholders).update(**values)`` as SQL compiled once per set of columns
    written; ``as_sql(values, connection, **where)`` gives the statement for ``values``, with
    the placeholders' real ``where`` values (of the types the database gets, as in
    ``CompiledQuery``).

    Per statement only what ``update()`` does to each value is left: its field's
    ``get_db_prep_save``. Values that are expressions or model instances, and fields with a
    placeholder of their own, are compiled by Django each time."""

    def __init__(
        self, model: type[M], build: Callable[..., QuerySet[M]], **placeholders: object
    ) -> None:
        self.model = model
        self.build = build
        self.placeholders = placeholders
        self.statements: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}

    def _compile(
        self, values: Mapping[str, Any], connection: BaseDatabaseWrapper, **where: object
    ) -> tuple[str, list[Any]]:
        query = self.build(**where).query.chain(UpdateQuery)
        query.add_update_values(values)  # type: ignore[attr-defined]
        if query.related_updates:  # type: ignore[attr-defined]
            raise ImproperlyConfigured("A compiled update writes one table.")
        statement, params = query.get_compiler(connection=connection).as_sql()
        return statement, list(params)

    def as_sql(
        self, values: Mapping[str, Any], connection: BaseDatabaseWrapper, **where: Any
    ) -> tuple[str, list[Any]]:
        fields = [self.model._meta.get_field(name) for name in values]
        if any(
            hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save")
            for value in values.values()
        ) or any(getattr(field, "get_placeholder_sql", None) for field in fields):
            return self._compile(values, connection, **where)
        key = (connection.alias, tuple(values))
        compiled = self.statements.get(key)
        if compiled is None:
            statement, params = self._compile(values, connection, **self.placeholders)
            # One parameter a value written, then the filter's: its placeholders only.
            found = _placeholder_names(statement, params[len(values) :], self.placeholders)
            if None in found:
                raise ImproperlyConfigured(f"Not one parameter a value written in {statement}")
            compiled = self.statements[key] = (statement, cast(list[str], found))
        statement, names = compiled
        written = [
            field.get_db_prep_save(value, connection)  # type: ignore[union-attr]
            for field, value in zip(fields, values.values(), strict=True)
        ]
        return statement, written + [where[name] for name in names]
