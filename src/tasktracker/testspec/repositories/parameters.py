"""Parameters and their variants.

Every write is checked before anything is sent: a parameter's own rules (range, default
value), and what depends on it — its variants' values and the step arguments' literals must
still fit a changed data type or range, and steps that rely on a default keep one. Deleting a
parameter that a command signature or a step argument uses, or a variant that an argument
uses, is refused with an `IntegrityError` naming the users (the database refuses it too).
"""

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlmodel import col

from tasktracker.db.errors import FieldError, IntegrityError, NotFoundError, ValidationError
from tasktracker.db.repository import TenantRepository, validated, write
from tasktracker.testspec.models import (
    GenericCommand,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    TestStepArgument,
)
from tasktracker.testspec.models.commands import SYNTAX_MAX_LENGTH
from tasktracker.testspec.models.parameters import ParameterFields
from tasktracker.testspec.repositories.common import require
from tasktracker.testspec.repositories.usage import UsageQueries, describe_steps
from tasktracker.testspec.schemas import (
    ParameterCreate,
    ParameterUpdate,
    VariantCreate,
    VariantUpdate,
)
from tasktracker.testspec.services.arguments import value_problem, value_problems

_RULE_FIELDS = ("data_type", "min_value", "max_value")
_USE_MAKE_DEFAULT = "is already the default (make_default moves it)"
Problems = builtins.list[FieldError]


def _variant_problems(parameter: ParameterFields, variants: list[VariantCreate]) -> Problems:
    errors: Problems = []
    names: set[str] = set()
    defaults = 0
    for index, variant in enumerate(variants):
        where = f"variants[{index}]"
        if variant.name in names:
            errors.append(FieldError(f"{where}.name", f"{variant.name!r} is given twice"))
        names.add(variant.name)
        defaults += variant.is_default
        if variant.is_default and defaults > 1:
            errors.append(FieldError(f"{where}.is_default", "only one variant can be the default"))
        if problem := value_problem(parameter, variant.value):
            errors.append(FieldError(f"{where}.value", problem))
    return errors


class ParameterRepository(TenantRepository[Parameter]):
    model = Parameter

    def create(self, data: ParameterCreate | Mapping[str, Any]) -> Parameter:
        """A new parameter with its variants (`variants` is loaded)."""
        data = validated(ParameterCreate, data)
        self._check_category(data.category_id)
        if errors := data.problems() + _variant_problems(data, data.variants):
            raise ValidationError(errors, model="Parameter")
        parameter = Parameter(**data.model_dump(exclude={"variants"}))
        parameter.variants = [ParameterVariant(**v.model_dump()) for v in data.variants]
        return self.add(parameter)

    def update(
        self,
        id: uuid.UUID,
        changes: ParameterUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Parameter:
        """Change the fields set in `changes`, if the parameter's variants and the steps that
        use it still fit (data type, range, a default where steps rely on one).

        A new name is also written into the `{placeholders}` of the commands' syntax.
        """
        changes = validated(ParameterUpdate, changes)
        parameter = self.get(id)
        values = changes.model_dump(exclude_unset=True)
        current = parameter.model_dump(include=set(ParameterFields.model_fields))
        after = ParameterFields.model_validate(current | values)
        if "category_id" in values:
            self._check_category(after.category_id)
        errors = after.problems() or self._dependants_problems(parameter, after, values)
        renamed = self._renamed_syntaxes(parameter, after.name)
        errors += [
            FieldError("name", f"would make the syntax of {command.name} too long")
            for command, syntax in renamed
            if len(syntax) > SYNTAX_MAX_LENGTH
        ]
        if errors:
            raise ValidationError(errors, model="Parameter")
        parameter = self.get_unchanged(id, expected_updated_at)
        with write(self.session):  # the parameter and the syntaxes naming it, as one
            self.apply(parameter, values)
            for command, syntax in renamed:
                command.syntax = syntax
        return parameter

    def _renamed_syntaxes(
        self, parameter: Parameter, name: str
    ) -> builtins.list[tuple[GenericCommand, str]]:
        """The commands whose syntax names the parameter, with the syntax under `name`."""
        if name == parameter.name:
            return []
        old, new = f"{{{parameter.name}}}", f"{{{name}}}"
        return [
            (command, command.syntax.replace(old, new))
            for command in UsageQueries(self.session).commands_using_parameter(parameter.id)
            if command.syntax is not None and old in command.syntax
        ]

    def delete(self, id: uuid.UUID) -> None:
        """Delete the parameter and its variants; refused while a signature or a step uses it."""
        parameter = self.get(id)
        usage = UsageQueries(self.session)
        users = []
        if commands := usage.commands_using_parameter(id):
            users.append("the signature of " + ", ".join(c.name for c in commands))
        if steps := usage.steps_binding_parameter(id):
            users.append("the arguments of " + describe_steps(steps))
        if users:
            raise IntegrityError(
                f"parameter {parameter.name!r} is still used by {' and '.join(users)}"
            )
        super().delete(id)

    def get_by_name(self, name: str) -> Parameter:
        found = self.find_by_name(name)
        if found is None:
            raise NotFoundError(f"Parameter {name!r} not found")
        return found

    def find_by_name(self, name: str) -> Parameter | None:
        statement = select(Parameter).where(col(Parameter.name) == name)
        return self.session.scalars(statement).one_or_none()

    def with_variants(self, id: uuid.UUID) -> Parameter:
        """The parameter with `variants` (by name) and `default_variant` loaded."""
        statement = (
            select(Parameter)
            .where(col(Parameter.id) == id)
            .options(
                selectinload(Parameter.variants),  # type: ignore[arg-type]
                selectinload(Parameter.default_variant),  # type: ignore[arg-type]
            )
        )
        found = self.session.scalars(statement).one_or_none()
        if found is None:
            raise NotFoundError(f"Parameter {id} not found")
        return found

    def list(self) -> builtins.list[Parameter]:
        """Every parameter, by name."""
        return builtins.list(self.session.scalars(select(Parameter).order_by(col(Parameter.name))))

    def _check_category(self, category_id: uuid.UUID | None) -> None:
        if category_id is not None:
            require(
                self.session, ParameterCategory, category_id, field="category_id", owner="Parameter"
            )

    def _dependants_problems(
        self, parameter: Parameter, after: ParameterFields, values: dict[str, Any]
    ) -> Problems:
        errors: Problems = []
        changed = [n for n in _RULE_FIELDS if n in values and values[n] != getattr(parameter, n)]
        if changed:
            variants = self.session.execute(
                select(col(ParameterVariant.name), col(ParameterVariant.value)).where(
                    col(ParameterVariant.parameter_id) == parameter.id
                )
            ).all()
            literals = self.session.scalars(
                select(col(TestStepArgument.value)).where(
                    col(TestStepArgument.parameter_id) == parameter.id,
                    col(TestStepArgument.value).is_not(None),
                )
            ).all()
            labelled = {f"variant {name!r}": value for name, value in variants}
            labelled |= {f"step argument {value!r}": value for value in literals if value}
            errors += value_problems(after, labelled, field=changed[0])
        loses_default = parameter.default_value is not None and after.default_value is None
        if loses_default and _default_variant(self, parameter.id) is None:
            steps = UsageQueries(self.session).steps_relying_on_default(parameter.id)
            if steps:
                errors.append(
                    FieldError("default_value", f"is relied on by {describe_steps(steps)}")
                )
        return errors


def _default_variant(
    repository: TenantRepository[Any], parameter_id: uuid.UUID
) -> ParameterVariant | None:
    statement = select(ParameterVariant).where(
        col(ParameterVariant.parameter_id) == parameter_id, col(ParameterVariant.is_default)
    )
    return repository.session.scalars(statement).one_or_none()


class VariantRepository(TenantRepository[ParameterVariant]):
    model = ParameterVariant

    def create(
        self, parameter_id: uuid.UUID, data: VariantCreate | Mapping[str, Any]
    ) -> ParameterVariant:
        """A new variant of the parameter; its value must fit the parameter."""
        data = validated(VariantCreate, data)
        parameter = require(
            self.session, Parameter, parameter_id, field="parameter_id", owner="ParameterVariant"
        )
        errors = self._value_problems(parameter, data.value)
        if data.is_default and (current := _default_variant(self, parameter_id)) is not None:
            errors.append(FieldError("is_default", f"{current.name!r} {_USE_MAKE_DEFAULT}"))
        if errors:
            raise ValidationError(errors, model="ParameterVariant")
        return self.add(ParameterVariant(parameter_id=parameter_id, **data.model_dump()))

    def update(
        self,
        id: uuid.UUID,
        changes: VariantUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> ParameterVariant:
        """Change the fields set in `changes`; the value must still fit the parameter, and
        unmarking the default must not leave steps that rely on it without a value."""
        changes = validated(VariantUpdate, changes)
        variant = self.get(id)
        parameter = self.session.get_one(Parameter, (self.user_id, variant.parameter_id))
        errors: Problems = []
        if changes.value is not None:
            errors += self._value_problems(parameter, changes.value)
        current = _default_variant(self, parameter.id) if changes.is_default else None
        if current is not None and current.id != variant.id:
            errors.append(FieldError("is_default", f"{current.name!r} {_USE_MAKE_DEFAULT}"))
        if changes.is_default is False and variant.is_default:
            errors += self._default_loss_problems(parameter, "is_default")
        if errors:
            raise ValidationError(errors, model="ParameterVariant")
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def make_default(self, id: uuid.UUID) -> ParameterVariant:
        """Make this variant its parameter's default (the previous default stops being one)."""
        variant = self.get(id)
        if not variant.is_default:
            with write(self.session):
                self.session.execute(
                    update(ParameterVariant)
                    .where(
                        col(ParameterVariant.parameter_id) == variant.parameter_id,
                        col(ParameterVariant.is_default),
                    )
                    .values(is_default=False)
                    .execution_options(synchronize_session="fetch")
                )
                variant.is_default = True
        return variant

    def delete(self, id: uuid.UUID) -> None:
        """Delete the variant; refused while a step argument names it, or while it is the
        default that steps rely on and the parameter has no `default_value`."""
        variant = self.get(id)
        if steps := UsageQueries(self.session).steps_using_variant(id):
            raise IntegrityError(
                f"variant {variant.name!r} is still used by the arguments of "
                + describe_steps(steps)
            )
        if variant.is_default:
            parameter = self.session.get_one(Parameter, (self.user_id, variant.parameter_id))
            if problems := self._default_loss_problems(parameter, "id"):
                raise IntegrityError(
                    f"variant {variant.name!r}, the default of {parameter.name}, "
                    f"{problems[0].message}"
                )
        super().delete(id)

    def list_for(self, parameter_id: uuid.UUID) -> builtins.list[ParameterVariant]:
        """The variants of a parameter, by name."""
        statement = (
            select(ParameterVariant)
            .where(col(ParameterVariant.parameter_id) == parameter_id)
            .order_by(col(ParameterVariant.name))
        )
        return builtins.list(self.session.scalars(statement))

    @staticmethod
    def _value_problems(parameter: Parameter, value: str) -> Problems:
        problem = value_problem(parameter, value)
        return [FieldError("value", problem)] if problem else []

    def _default_loss_problems(self, parameter: Parameter, field: str) -> Problems:
        if parameter.default_value is not None:
            return []
        if not (steps := UsageQueries(self.session).steps_relying_on_default(parameter.id)):
            return []
        return [FieldError(field, f"is relied on as the default by {describe_steps(steps)}")]
