"""Versions you can read: snapshots of requirements and specifications, and their diffs.

A requirement version is written for each revision: by `RequirementRepository` when it
creates a requirement or its revision goes up, and, for a revision made by plain SQL (the
trigger), the first time something asks for the versions. A specification version is
the specification as a run would execute it: its fields, its steps and their *resolved*
arguments (`services.resolution`), so changing a parameter's default or a variant's value
makes a new version too, though no specification row changed. Its SHA-256 `digest` is
compared with the latest version's: `record_specification` writes a version only when
the content differs. The repository and `StepService` record after every write; anything
else (an import, plain SQL, a changed parameter) is recorded the next time a version is
asked for (`current_specification_version`, pinning an execution, listing versions).
"""

import enum
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.errors import NotFoundError
from tasktracker.db.fastpath.steps import run_steps
from tasktracker.db.repository import write
from tasktracker.db.tenancy import scope_user_id
from tasktracker.testspec.models import (
    Requirement,
    RequirementVersion,
    TestSpecification,
    TestSpecificationVersion,
)
from tasktracker.testspec.services.resolution import (
    ResolvedSpecification,
    ResolvedStep,
    resolved_specification,
)

REQUIREMENT_FIELDS = ("key", "title", "statement", "rationale", "kind", "priority", "status")
"""What a requirement version keeps (`revision` apart)."""
SPECIFICATION_FIELDS = ("key", "title", "objective", "preconditions", "status", "priority")
STEP_FIELDS = (
    "position",
    "action",
    "expected_result",
    "continue_on_failure",
    "command",
    "invocation",
    "arguments",
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class StepChange:
    """A step `added`, `removed` or `changed` between two versions (matched by step id)."""

    change: str
    position: int
    action: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version `old` to version `new`, field by field."""

    old: int
    new: int
    fields: tuple[FieldChange, ...] = ()
    steps: tuple[StepChange, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.steps)

    def summary(self) -> str:
        """One line: `title, statement changed; step 2 added` (or `no change`)."""
        parts = [", ".join(change.field for change in self.fields) + " changed"] * bool(self.fields)
        parts += [f"step {step.position} {step.change}" for step in self.steps]
        return "; ".join(parts) or "no change"


def _step_document(step: ResolvedStep) -> dict[str, Any]:
    return {
        "id": str(step.id),
        "position": step.position,
        "action": step.action,
        "expected_result": step.expected_result,
        "continue_on_failure": step.continue_on_failure,
        "command": step.command,
        "invocation": step.invocation,
        "arguments": [
            {
                "parameter": argument.parameter,
                "source": argument.source.value,
                "value": argument.text,
                "variant": argument.variant,
                "unit": argument.unit,
            }
            for argument in step.arguments
        ],
    }


def _digest(content: Mapping[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], names: Sequence[str]
) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, old.get(name), new.get(name))
        for name in names
        if old.get(name) != new.get(name)
    )


def _step_key(step: Mapping[str, Any]) -> str:
    """A step is the same step across versions by its id (by position where a version
    holds no ids: a bulk-seeded one)."""
    return str(step.get("id") or f"position {step['position']}")


def diff_contents(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[tuple[FieldChange, ...], tuple[StepChange, ...]]:
    """Two specification contents: the changed fields, then the steps added, removed,
    changed (by position in the newer version; removed ones by their old position)."""
    fields = _field_changes(old, new, SPECIFICATION_FIELDS)
    before = {_step_key(step): step for step in old.get("steps", [])}
    after = {_step_key(step): step for step in new.get("steps", [])}
    steps: list[StepChange] = []
    for id, step in after.items():
        if id not in before:
            steps.append(StepChange("added", step["position"], step["action"]))
        elif changes := _field_changes(before[id], step, STEP_FIELDS):
            steps.append(StepChange("changed", step["position"], step["action"], changes))
    steps += [
        StepChange("removed", step["position"], step["action"])
        for id, step in before.items()
        if id not in after
    ]
    return fields, tuple(sorted(steps, key=lambda s: (s.change == "removed", s.position)))


class VersionService:
    """Record, list, show and compare the versions of the user's requirements and
    specifications."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.user_id = scope_user_id(session)

    # -- requirements -----------------------------------------------------------------

    def record_requirement(self, requirement: Requirement) -> RequirementVersion:
        """The version of the requirement's current revision, written if missing."""
        found = self._requirement_version(requirement.id, requirement.revision)
        if found is not None:
            return found
        version = RequirementVersion(
            user_id=self.user_id,
            requirement_id=requirement.id,
            revision=requirement.revision,
            **{name: getattr(requirement, name) for name in REQUIREMENT_FIELDS},
        )
        with write(self.session):
            self.session.add(version)
        return version

    def requirement_versions(self, requirement_id: uuid.UUID) -> list[RequirementVersion]:
        """Every recorded revision, oldest first (the current one recorded if missing)."""
        self.record_requirement(self._requirement(requirement_id))
        statement = (
            select(RequirementVersion)
            .where(col(RequirementVersion.requirement_id) == requirement_id)
            .order_by(col(RequirementVersion.revision))
        )
        return list(self.session.scalars(statement))

    def requirement_version(self, requirement_id: uuid.UUID, revision: int) -> RequirementVersion:
        self.record_requirement(self._requirement(requirement_id))
        found = self._requirement_version(requirement_id, revision)
        if found is None:
            raise NotFoundError(f"revision {revision} of requirement {requirement_id} not found")
        return found

    def diff_requirement(self, requirement_id: uuid.UUID, old: int, new: int) -> VersionDiff:
        """What changed between two revisions, field by field."""
        before = self.requirement_version(requirement_id, old)
        after = self.requirement_version(requirement_id, new)
        changes = _field_changes(
            before.model_dump(), after.model_dump(), [n for n in REQUIREMENT_FIELDS if n != "key"]
        )
        return VersionDiff(old, new, changes)

    def since_verified(
        self, requirement_id: uuid.UUID, verified_revision: int | None
    ) -> VersionDiff | None:
        """What changed in the requirement since a link was verified (None if never
        verified: everything is new to it)."""
        requirement = self._requirement(requirement_id)
        if verified_revision is None:
            return None
        return self.diff_requirement(requirement_id, verified_revision, requirement.revision)

    # -- specifications ---------------------------------------------------------------

    def snapshot(self, specification_id: uuid.UUID) -> dict[str, Any]:
        """The specification's content as a version would keep it now."""
        resolved = self._resolved(specification_id)
        specification = self.session.get(TestSpecification, self._key(specification_id))
        assert specification is not None  # resolved: it exists in the scope
        return {
            **{name: _plain(getattr(specification, name)) for name in SPECIFICATION_FIELDS},
            "steps": [_step_document(step) for step in resolved.steps],
        }

    def record_specification(self, specification_id: uuid.UUID) -> TestSpecificationVersion:
        """The latest version if the specification is unchanged since, else a new one."""
        content = self.snapshot(specification_id)
        digest = _digest(content)
        latest = self._latest(specification_id)
        if latest is not None and latest.digest == digest:
            return latest
        version = TestSpecificationVersion(
            user_id=self.user_id,
            test_specification_id=specification_id,
            version=1 if latest is None else latest.version + 1,
            key=content["key"],
            title=content["title"],
            status=content["status"],
            step_count=len(content["steps"]),
            digest=digest,
            content=content,
        )
        with write(self.session):
            self.session.add(version)
        return version

    current_specification_version = record_specification

    def specification_versions(self, specification_id: uuid.UUID) -> list[TestSpecificationVersion]:
        """Every version, oldest first (the current one recorded if it changed)."""
        self.record_specification(specification_id)
        statement = (
            select(TestSpecificationVersion)
            .where(col(TestSpecificationVersion.test_specification_id) == specification_id)
            .order_by(col(TestSpecificationVersion.version))
        )
        return list(self.session.scalars(statement))

    def specification_version(
        self, specification_id: uuid.UUID, version: int
    ) -> TestSpecificationVersion:
        self.record_specification(specification_id)
        statement = select(TestSpecificationVersion).where(
            col(TestSpecificationVersion.test_specification_id) == specification_id,
            col(TestSpecificationVersion.version) == version,
        )
        found = self.session.scalars(statement).one_or_none()
        if found is None:
            raise NotFoundError(f"version {version} of specification {specification_id} not found")
        return found

    def diff_specification(self, specification_id: uuid.UUID, old: int, new: int) -> VersionDiff:
        """Fields changed, steps added, removed and changed between two versions."""
        before = self.specification_version(specification_id, old).content
        after = self.specification_version(specification_id, new).content
        fields, steps = diff_contents(before, after)
        return VersionDiff(old, new, fields, steps)

    # -- helpers ----------------------------------------------------------------------

    def _resolved(self, specification_id: uuid.UUID) -> ResolvedSpecification:
        self.session.flush()  # the compiled statements read what the session wrote
        return run_steps(self.session, resolved_specification(specification_id))

    def _key(self, id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.user_id, id)

    def _requirement(self, id: uuid.UUID) -> Requirement:
        found = self.session.get(Requirement, self._key(id))
        if found is None:
            raise NotFoundError(f"Requirement {id} not found")
        return found

    def _requirement_version(self, id: uuid.UUID, revision: int) -> RequirementVersion | None:
        statement = select(RequirementVersion).where(
            col(RequirementVersion.requirement_id) == id,
            col(RequirementVersion.revision) == revision,
        )
        return self.session.scalars(statement).one_or_none()

    def _latest(self, specification_id: uuid.UUID) -> TestSpecificationVersion | None:
        statement = (
            select(TestSpecificationVersion)
            .where(col(TestSpecificationVersion.test_specification_id) == specification_id)
            .order_by(col(TestSpecificationVersion.version).desc())
            .limit(1)
        )
        return self.session.scalars(statement).first()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
