"""Hot single-model queries, compiled to SQL once per process.

Django compiles a queryset anew each time it is evaluated; for the few queries every REST call
or process start runs, that costs more CPU than the database takes to answer them. A
``CompiledQuery`` compiles its queryset once, with placeholder values, then runs that SQL with
the real values as a raw query, which builds the instances as the ORM does: values converted
by their fields, the columns not selected deferred.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model, QuerySet


class CompiledQuery[M: Model]:
    """``build(**placeholders)`` compiled once; ``first(**values)`` runs it with ``values``.

    Each placeholder must be a value that the query passes to the database unchanged and that
    appears nowhere else among its parameters (an unlikely number or string); ``values`` must
    be of the types the database gets (an ``int`` for an integer key).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **placeholders: object) -> None:
        self.build = build
        self.placeholders = placeholders
        self.compiled: tuple[type[M], str, list[str | None], list[Any]] | None = None

    def _compile(self) -> tuple[type[M], str, list[str | None], list[Any]]:
        queryset = self.build(**self.placeholders)
        if queryset.query.select_related:
            raise ImproperlyConfigured("A raw query builds one model: no select_related.")
        sql, params = queryset.query.sql_with_params()
        names: list[str | None] = []
        for param in params:
            matching = [name for name, value in self.placeholders.items() if value == param]
            names.append(matching[0] if matching else None)
        for name in self.placeholders:
            if names.count(name) != 1:
                raise ImproperlyConfigured(f"Placeholder {name!r} is not one parameter of {sql}")
        return queryset.model, sql, names, list(params)

    def first(self, **values: object) -> M | None:
        if self.compiled is None:
            self.compiled = self._compile()
        model, sql, names, params = self.compiled
        bound = [values[name] if name else param for name, param in zip(names, params, strict=True)]
        found = model._default_manager.db_manager(DEFAULT_DB_ALIAS).raw(sql, bound)
        return next(iter(found), None)
