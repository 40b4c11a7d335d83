"""Export a whole test specification to JSON; import it into any user's workspace.

The document (`schemas.exchange.TestSpecificationDocument`) carries the specification, its
steps and links, and everything they use — commands with their signatures, parameters with
the variants in use and their default variant, categories, the linked requirements and
their ancestors — all by name or key, never by id.

Importing creates what the workspace lacks with new ids and reuses what it has: commands,
parameters, variants and categories are matched by name, requirements by key. Everything
goes through the repositories and `StepService`, so every rule applies, and the import is
one `write`: a document that does not fit changes nothing, and the unit goes on. Importing
a specification whose key already exists creates nothing when its content is the same (so
importing twice is harmless) and is refused with a `ConflictError` when it differs.

A link's review state travels only when it still means something: for a requirement the
import creates (same text, same revision), or one that exists with the very same title and
statement. Otherwise the imported link is suspect until someone reviews it.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.base import validation_error
from tasktracker.db.caseless import caseless
from tasktracker.db.errors import ConflictError, FieldError, ValidationError
from tasktracker.db.repository import write
from tasktracker.testspec.models import (
    CommandCategory,
    GenericCommand,
    Parameter,
    ParameterCategory,
    ParameterVariant,
    Requirement,
    TestSpecification,
    TestStep,
)
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.schemas.exchange import (
    ArgumentDocument,
    CategoryDocument,
    CommandDocument,
    LinkDocument,
    ParameterDocument,
    RequirementDocument,
    SignatureEntryDocument,
    SpecificationDocument,
    StepDocument,
    TestSpecificationDocument,
    VariantDocument,
)
from tasktracker.testspec.services.steps import StepService
from tasktracker.testspec.services.traceability import TraceabilityService

CategoryT = TypeVar("CategoryT", CommandCategory, ParameterCategory)


@dataclass
class ImportReport:
    """What an import created and what it found already there, counted per table."""

    specification_id: uuid.UUID
    created: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def parse_document(
    document: TestSpecificationDocument | Mapping[str, Any] | str | bytes,
) -> TestSpecificationDocument:
    """A document from its JSON text or its dict, with field-level errors if malformed."""
    if isinstance(document, TestSpecificationDocument):
        return document
    try:
        if isinstance(document, str | bytes):
            return TestSpecificationDocument.model_validate_json(document)
        return TestSpecificationDocument.model_validate(document)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "TestSpecificationDocument") from None


_DOCUMENT_NAMES = {
    "category_id": "category",
    "command_id": "command",
    "parameter_id": "parameter",
    "parent_id": "parent",
    "variant_id": "variant",
}
"""The document's name of a field that the repositories and services call by its id."""


def _document_field(field: str) -> str:
    head, dot, last = field.rpartition(".")
    return head + dot + _DOCUMENT_NAMES.get(last, last)


@contextmanager
def _located(where: str) -> Iterator[None]:
    """Errors inside name their place in the document, with the document's field names
    (`parameters[0].default_value`, `steps[3].arguments[1].parameter`)."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(
            (FieldError(_document_field(f"{where}.{e.field}"), e.message) for e in exc.errors),
            model="TestSpecificationDocument",
        ) from None


class SpecificationExchange:
    """Export and import of whole test specifications, in the session's user scope."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def export(self, specification_id: uuid.UUID) -> TestSpecificationDocument:
        specification = TestSpecificationRepository(self.session).load(specification_id)
        return _Exporter(self.session, specification).document()

    def export_json(self, specification_id: uuid.UUID, *, indent: int | None = 2) -> str:
        return self.export(specification_id).model_dump_json(indent=indent)

    def import_document(
        self, document: TestSpecificationDocument | Mapping[str, Any] | str | bytes
    ) -> ImportReport:
        """Import into the scope's workspace; all or nothing."""
        parsed = parse_document(document)
        with write(self.session):
            return _Importer(self, parsed).run()


def _category_documents(
    categories: Iterable[CommandCategory | ParameterCategory],
) -> tuple[CategoryDocument, ...]:
    return tuple(CategoryDocument(name=c.name, description=c.description) for c in categories)


class _Exporter:
    def __init__(self, session: Session, specification: TestSpecification) -> None:
        self.session = session
        self.specification = specification
        self.commands = {
            step.command.id: step.command for step in specification.steps if step.command
        }
        self.parameters = {
            entry.parameter.id: entry.parameter
            for command in self.commands.values()
            for entry in command.signature
        }
        self.command_categories = self._load_categories(CommandCategory, self.commands.values())
        self.parameter_categories = self._load_categories(
            ParameterCategory, self.parameters.values()
        )

    def document(self) -> TestSpecificationDocument:
        spec = self.specification
        requirements = RequirementRepository(self.session).with_ancestors(
            [link.requirement_id for link in spec.requirement_links]
        )
        return TestSpecificationDocument(
            specification=SpecificationDocument.model_validate(spec, from_attributes=True),
            steps=tuple(self._step(step) for step in spec.steps),
            links=tuple(
                sorted(
                    (
                        LinkDocument(
                            requirement=link.requirement.key,
                            verified_revision=link.verified_revision,
                        )
                        for link in spec.requirement_links
                    ),
                    key=lambda link: link.requirement,
                )
            ),
            requirements=self._requirements(requirements),
            commands=self._commands(),
            parameters=self._parameters(),
            command_categories=_category_documents(self.command_categories),
            parameter_categories=_category_documents(self.parameter_categories),
        )

    def _step(self, step: TestStep) -> StepDocument:
        order: dict[uuid.UUID, int] = {}
        if step.command is not None:
            order = {entry.parameter_id: entry.position for entry in step.command.signature}
        arguments = sorted(step.arguments, key=lambda a: order.get(a.parameter_id, 0))
        return StepDocument(
            action=step.action,
            expected_result=step.expected_result,
            command=step.command.name if step.command else None,
            continue_on_failure=step.continue_on_failure,
            arguments=tuple(
                ArgumentDocument(
                    parameter=self.parameters[a.parameter_id].name,
                    variant=a.variant.name if a.variant else None,
                    value=a.value,
                )
                for a in arguments
            ),
        )

    def _requirements(
        self, requirements: Mapping[uuid.UUID, Requirement]
    ) -> tuple[RequirementDocument, ...]:
        def document(r: Requirement) -> RequirementDocument:
            parent = requirements.get(r.parent_id) if r.parent_id else None
            fields = r.model_dump(include=set(RequirementDocument.model_fields) - {"parent"})
            return RequirementDocument(**fields, parent=parent.key if parent else None)

        return tuple(sorted((document(r) for r in requirements.values()), key=lambda d: d.key))

    def _commands(self) -> tuple[CommandDocument, ...]:
        names = {c.id: c.name for c in self.command_categories}
        return tuple(
            CommandDocument(
                **c.model_dump(include={"name", "description", "syntax", "is_active"}),
                category=names.get(c.category_id) if c.category_id else None,
                signature=tuple(
                    SignatureEntryDocument(parameter=e.parameter.name, is_required=e.is_required)
                    for e in c.signature
                ),
            )
            for c in sorted(self.commands.values(), key=lambda c: c.name)
        )

    def _parameters(self) -> tuple[ParameterDocument, ...]:
        used: dict[uuid.UUID, dict[str, ParameterVariant]] = {p: {} for p in self.parameters}
        for step in self.specification.steps:
            for argument in step.arguments:
                if argument.variant is not None:
                    used[argument.parameter_id][argument.variant.name] = argument.variant
        for parameter in self.parameters.values():
            if parameter.default_variant is not None:
                used[parameter.id][parameter.default_variant.name] = parameter.default_variant
        names = {c.id: c.name for c in self.parameter_categories}
        fields = set(ParameterDocument.model_fields) - {"category", "variants"}
        return tuple(
            ParameterDocument(
                **p.model_dump(include=fields),
                category=names.get(p.category_id) if p.category_id else None,
                variants=tuple(
                    VariantDocument(
                        **v.model_dump(include={"name", "value", "description", "is_default"})
                    )
                    for _, v in sorted(used[p.id].items())
                ),
            )
            for p in sorted(self.parameters.values(), key=lambda p: p.name)
        )

    def _load_categories(
        self, model: type[CategoryT], members: Iterable[GenericCommand | Parameter]
    ) -> list[CategoryT]:
        ids = {m.category_id for m in members if m.category_id is not None}
        if not ids:
            return []
        statement = select(model).where(col(model.id).in_(ids)).order_by(caseless(model.name))
        return list(self.session.scalars(statement))


class _Importer:
    def __init__(self, exchange: SpecificationExchange, document: TestSpecificationDocument):
        self.exchange = exchange
        self.session = exchange.session
        self.document = document
        self.report = ImportReport(specification_id=uuid.UUID(int=0))
        self.parameters: dict[str, Parameter] = {}
        self.variants: dict[tuple[str, str], uuid.UUID] = {}
        self.commands: dict[str, GenericCommand] = {}
        self.requirements: dict[str, Requirement] = {}
        self.created_requirements: set[str] = set()

    def run(self) -> ImportReport:
        doc = self.document
        specifications = TestSpecificationRepository(self.session)
        existing = specifications.find_by_key(doc.specification.key)
        if existing is not None:
            self._check_same(existing)
            self.report.specification_id = existing.id
            self.report.matched["test_specifications"] += 1
            return self.report
        command_categories = self._categories(
            CommandCategoryRepository(self.session), doc.command_categories, "command_categories"
        )
        parameter_categories = self._categories(
            ParameterCategoryRepository(self.session),
            doc.parameter_categories,
            "parameter_categories",
        )
        for index, parameter in enumerate(doc.parameters):
            with _located(f"parameters[{index}]"):
                self._parameter(parameter, parameter_categories)
        for index, command in enumerate(doc.commands):
            with _located(f"commands[{index}]"):
                self._command(command, command_categories)
        self._requirements()
        specification = specifications.create(doc.specification.model_dump())
        self.report.specification_id = specification.id
        self.report.created["test_specifications"] += 1
        steps = StepService(self.session)
        for index, step in enumerate(doc.steps):
            self._step(steps, specification.id, index, step)
        self._links(specification.id)
        return self.report

    def _check_same(self, existing: TestSpecification) -> None:
        current = self.exchange.export(existing.id)
        doc = self.document
        same = (
            current.specification == doc.specification
            and current.steps == doc.steps
            and {link.requirement for link in current.links}
            == {link.requirement for link in doc.links}
        )
        if not same:
            raise ConflictError(
                f"test specification {doc.specification.key} already exists with other content"
            )

    def _categories(
        self,
        repository: CommandCategoryRepository | ParameterCategoryRepository,
        documents: tuple[CategoryDocument, ...],
        table: str,
    ) -> dict[str, uuid.UUID]:
        ids: dict[str, uuid.UUID] = {}
        for document in documents:
            category = repository.find_by_name(document.name)
            if category is None:
                category = repository.create(document.model_dump())
                self.report.created[table] += 1
            else:
                self.report.matched[table] += 1
            ids[document.name.lower()] = category.id
        return ids

    def _parameter(self, document: ParameterDocument, categories: dict[str, uuid.UUID]) -> None:
        repository = ParameterRepository(self.session)
        fields = document.model_dump(exclude={"category", "variants"})
        fields["category_id"] = (
            categories.get(document.category.lower()) if document.category else None
        )
        parameter = repository.find_by_name(document.name)
        if parameter is None:
            parameter = repository.create(
                fields | {"variants": [v.model_dump() for v in document.variants]}
            )
            self.report.created["parameters"] += 1
            self.report.created["parameter_variants"] += len(document.variants)
        else:
            self.report.matched["parameters"] += 1
            if parameter.data_type != document.data_type:
                raise ValidationError.single(
                    "data_type", f"{parameter.name} exists here as {parameter.data_type}"
                )
            self._add_missing_variants(parameter, document)
        self.parameters[parameter.name] = parameter
        for variant in VariantRepository(self.session).list_for(parameter.id):
            self.variants[(parameter.name, variant.name)] = variant.id

    def _add_missing_variants(self, parameter: Parameter, document: ParameterDocument) -> None:
        variants = VariantRepository(self.session)
        existing = {variant.name: variant for variant in variants.list_for(parameter.id)}
        has_default = any(variant.is_default for variant in existing.values())
        for index, variant in enumerate(document.variants):
            if variant.name in existing:
                self.report.matched["parameter_variants"] += 1
                continue
            is_default = variant.is_default and not has_default
            with _located(f"variants[{index}]"):
                variants.create(parameter.id, variant.model_dump() | {"is_default": is_default})
            has_default = has_default or is_default
            self.report.created["parameter_variants"] += 1

    def _command(self, document: CommandDocument, categories: dict[str, uuid.UUID]) -> None:
        repository = GenericCommandRepository(self.session)
        command = repository.find_by_name(document.name)
        if command is None:
            fields = document.model_dump(exclude={"category", "signature"})
            fields["category_id"] = (
                categories.get(document.category.lower()) if document.category else None
            )
            fields["signature"] = [
                {
                    "parameter_id": self._parameter_named(e.parameter).id,
                    "is_required": e.is_required,
                }
                for e in document.signature
            ]
            command = repository.create(fields)
            self.report.created["generic_commands"] += 1
        else:
            self.report.matched["generic_commands"] += 1
        self.commands[command.name] = command

    def _requirements(self) -> None:
        repository = RequirementRepository(self.session)
        for document in self.document.requirements:
            requirement = repository.find_by_key(document.key)
            if requirement is None:
                requirement = repository.add(Requirement(**document.model_dump(exclude={"parent"})))
                self.created_requirements.add(document.key)
                self.report.created["requirements"] += 1
            else:
                self.report.matched["requirements"] += 1
            self.requirements[document.key] = requirement
        for index, document in enumerate(self.document.requirements):
            if document.key in self.created_requirements and document.parent is not None:
                parent = self._requirement_keyed(document.parent)
                if parent is not None:
                    with _located(f"requirements[{index}]"):
                        repository.update(
                            self.requirements[document.key].id, {"parent_id": parent.id}
                        )

    def _step(
        self, steps: StepService, specification_id: uuid.UUID, index: int, step: StepDocument
    ) -> None:
        where = f"steps[{index}]"
        command = self._command_named(step.command, f"{where}.command") if step.command else None
        arguments = []
        for position, argument in enumerate(step.arguments):
            parameter = self._parameter_named(
                argument.parameter, f"{where}.arguments[{position}].parameter"
            )
            variant_id = None
            if argument.variant is not None:
                variant_id = self.variants.get((parameter.name, argument.variant))
                if variant_id is None:
                    raise ValidationError.single(
                        f"{where}.arguments[{position}].variant",
                        f"{parameter.name} has no variant {argument.variant!r}",
                        model="TestSpecificationDocument",
                    )
            arguments.append(
                {"parameter_id": parameter.id, "variant_id": variant_id, "value": argument.value}
            )
        fields = step.model_dump(exclude={"command", "arguments"})
        with _located(where):
            steps.insert(
                specification_id,
                fields | {"command_id": command.id if command else None, "arguments": arguments},
            )
        self.report.created["test_steps"] += 1

    def _links(self, specification_id: uuid.UUID) -> None:
        traceability = TraceabilityService(self.session)
        documents = {r.key: r for r in self.document.requirements}
        for index, link in enumerate(self.document.links):
            requirement = self._requirement_keyed(link.requirement)
            if requirement is None:
                raise ValidationError.single(
                    f"links[{index}].requirement",
                    f"no requirement {link.requirement} in the document or the workspace",
                    model="TestSpecificationDocument",
                )
            created = traceability.link(requirement.id, specification_id, reviewed=False)
            created.verified_revision = self._verified(
                link, requirement, documents.get(link.requirement)
            )
            self.report.created["requirement_test_links"] += 1

    def _verified(
        self, link: LinkDocument, requirement: Requirement, document: RequirementDocument | None
    ) -> int | None:
        if link.verified_revision is None or document is None:
            return None
        if requirement.key in self.created_requirements:
            return link.verified_revision
        same_text = (requirement.title, requirement.statement) == (
            document.title,
            document.statement,
        )
        was_current = link.verified_revision >= document.revision
        return requirement.revision if same_text and was_current else None

    def _parameter_named(self, name: str, field: str = "parameters") -> Parameter:
        parameter = self.parameters.get(name) or ParameterRepository(self.session).find_by_name(
            name
        )
        if parameter is None:
            raise ValidationError.single(
                field,
                f"no parameter {name} in the document or the workspace",
                model="TestSpecificationDocument",
            )
        self.parameters[name] = parameter
        if not any(key[0] == name for key in self.variants):
            for variant in VariantRepository(self.session).list_for(parameter.id):
                self.variants[(name, variant.name)] = variant.id
        return parameter

    def _command_named(self, name: str, field: str) -> GenericCommand:
        command = self.commands.get(name) or GenericCommandRepository(self.session).find_by_name(
            name
        )
        if command is None:
            raise ValidationError.single(
                field,
                f"no command {name} in the document or the workspace",
                model="TestSpecificationDocument",
            )
        return command

    def _requirement_keyed(self, key: str) -> Requirement | None:
        return self.requirements.get(key) or RequirementRepository(self.session).find_by_key(key)
