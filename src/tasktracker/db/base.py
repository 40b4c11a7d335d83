"""Base classes every table model derives from.

- `TableModel`: validates each field whenever it is assigned (SQLModel table models skip
  pydantic validation by default, which would let invalid objects reach a flush).
- `UserOwned`: the tenant key `user_id`, first column of the primary key, cascading from
  `users`. Every table except `users` derives from it.
- `TenantModel`: a user-owned row with its own UUIDv7 `id`; primary key `(user_id, id)`.
- `Timestamped`: `created_at` / `updated_at`, aware UTC on every backend.

Every table model is registered on the package's own `registry` and `metadata` (with its
naming convention), never on `SQLModel.metadata`: a host application's own SQLModel models
get neither the convention nor the derived CHECKs, and its tables and ours never mix.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

import annotated_types
import pydantic
from sqlalchemy import ColumnElement, MetaData, column, func
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from tasktracker.db.constraints import add_derived_checks
from tasktracker.db.errors import FieldError, ValidationError
from tasktracker.db.types import AWARE, UTCDateTime, new_id, utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""Every table of the package, and nothing else."""
mapper_registry = registry(metadata=metadata)


@functools.cache
def _field_adapter(model: type[SQLModel], name: str) -> pydantic.TypeAdapter[Any]:
    """How a field is validated on assignment: its declaration, plus what its column's type
    would refuse at flush (a naive datetime for a `UTCDateTime`), so that is refused here,
    on the field, instead of failing the flush."""
    field = model.model_fields[name]
    annotated: Any = Annotated[field.annotation, field]
    table = getattr(model, "__table__", None)
    column = table.c.get(name) if table is not None else None
    if column is not None and isinstance(column.type, UTCDateTime):
        annotated = Annotated[annotated, AWARE]
    return pydantic.TypeAdapter(annotated)


@functools.cache
def _is_hybrid(model: type, name: str) -> bool:
    return isinstance(inspect.getattr_static(model, name, None), hybrid_property)


def validation_error(exc: pydantic.ValidationError, model: str) -> ValidationError:
    """Our `ValidationError` from pydantic's, one `FieldError` per failing location."""
    return ValidationError(
        (
            FieldError(".".join(str(part) for part in error["loc"]) or "value", error["msg"])
            for error in exc.errors(include_input=False, include_url=False)
        ),
        model=model,
    )


class Schema(SQLModel):
    """A create/update schema: unknown fields are refused, not silently dropped."""

    model_config = SQLModelConfig(extra="forbid")


def field_of(source: type[pydantic.BaseModel], name: str, **options: Any) -> Any:
    """A field with the rules `source` declares for its field `name` (`max_length`,
    `min_length`, bounds...), so that a schema repeating the field does not restate them;
    `options` are this field's own (`default=None` for an update's optional field).

    The type stays declared in the schema (`title: RequiredText | None = ...`), for the
    type checker; only the declared rules are taken from `source`."""
    rules = [
        rule
        for rule in source.model_fields[name].metadata
        if isinstance(rule, annotated_types.BaseMetadata)  # not the type's own (`NonBlank`)
    ]
    field = Field(**options)
    field.metadata = [*rules, *field.metadata]
    return field


class Input(pydantic.BaseModel):
    """A value built from caller input that is not a table's schema (a listing's filter):
    unknown fields are refused, and constructing or changing it with a bad value raises our
    `ValidationError`, one `FieldError` per field, not pydantic's."""

    model_config = pydantic.ConfigDict(extra="forbid", validate_assignment=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, type(self).__name__) from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, type(self).__name__) from None


class TableModel(SQLModel, registry=mapper_registry):
    """A SQLModel table model whose fields are validated on construction and on assignment.

    Its subclasses are mapped in the package's own registry, onto `metadata`."""

    model_config = SQLModelConfig(ignored_types=(hybrid_property, hybrid_method))

    def __setattr__(self, name: str, value: Any) -> None:
        # Hot path: SQLAlchemy sets `_sa_instance_state` on every object it loads.
        if name[0] == "_":
            super().__setattr__(name, value)
            return
        model = type(self)
        if name in model.__pydantic_fields__:
            try:
                value = _field_adapter(model, name).validate_python(value)
            except pydantic.ValidationError as exc:
                error = validation_error(exc, model.__name__)
                raise ValidationError(
                    (FieldError(name, e.message) for e in error.errors), model=model.__name__
                ) from None
        elif _is_hybrid(model, name):
            object.__setattr__(self, name, value)  # pydantic would refuse a non-field name
            return
        super().__setattr__(name, value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the columns; fields marked `exclude` (secrets) never appear."""
        return self.model_dump(mode="json")


add_derived_checks(TableModel)


class _MixinColumn:
    """A class-level column on an unmapped mixin, for `with_loader_criteria`.

    `with_loader_criteria(UserOwned, lambda cls: cls.user_id == ...)` analyses its lambda
    once against the mixin itself, but pydantic strips field attributes from classes. This
    descriptor answers on the mixin only; on subclasses it raises `AttributeError`, so
    pydantic still inherits the field and each mapped subclass uses its own instrumented
    column at run time.
    """

    def __init__(self, owner: type, name: str) -> None:
        self.owner = owner
        self.name = name

    def __get__(self, instance: object, owner: type) -> ColumnElement[Any]:
        if owner is not self.owner:
            raise AttributeError(self.name)
        return column(self.name)


class UserOwned(TableModel):
    """A row that belongs to exactly one user: `user_id` leads the primary key."""

    __tenant_key__: ClassVar[str] = "user_id"

    user_id: uuid.UUID = Field(
        foreign_key="users.id", ondelete="CASCADE", primary_key=True, nullable=False
    )


type.__setattr__(UserOwned, "user_id", _MixinColumn(UserOwned, "user_id"))


class TenantModel(UserOwned):
    """A user-owned row with its own UUIDv7 id; primary key `(user_id, id)`."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True, nullable=False)


def _same_as_created_at(context: DefaultExecutionContext) -> datetime:
    return context.get_current_parameters()["created_at"]  # type: ignore[no-untyped-call,no-any-return]


class Created(SQLModel):
    """`created_at`: set once on insert (by the application, or by the database default)."""

    created_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"default": utc_now, "server_default": func.now()},
    )


class Timestamped(Created):
    """`created_at` plus `updated_at`, equal on insert and moving forward on every UPDATE.

    The ORM sets `updated_at` on every UPDATE statement it emits, bulk ones included; on
    PostgreSQL a trigger (see `tasktracker.db.ddl`) also covers plain SQL.
    """

    updated_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={
            "default": _same_as_created_at,
            "onupdate": utc_now,
            "server_default": func.now(),
        },
    )


class ScopeRoot(TableModel):
    """The model whose `id` *is* the user id (`users`): in a user scope only that row shows."""

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True, nullable=False)


type.__setattr__(ScopeRoot, "id", _MixinColumn(ScopeRoot, "id"))


class SearchShadow:
    """A search table mapped for its queries (the SQLite FTS5 copy of a searchable table's
    fields, `db.search.index`), on a metadata of its own: not a table model. Its `user_id`
    names the owner, and the scope's criteria limit it as they limit `UserOwned`."""


type.__setattr__(SearchShadow, "user_id", _MixinColumn(SearchShadow, "user_id"))
