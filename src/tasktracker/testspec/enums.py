"""The enumerations of the test-engineering tables (stored as short strings with a CHECK)."""

import enum


class RequirementKind(enum.StrEnum):
    FUNCTIONAL = "functional"
    PERFORMANCE = "performance"
    INTERFACE = "interface"
    SAFETY = "safety"
    SECURITY = "security"
    OTHER = "other"


class RequirementStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    OBSOLETE = "obsolete"


class SpecificationStatus(enum.StrEnum):
    DRAFT = "draft"
    READY = "ready"
    APPROVED = "approved"
    OBSOLETE = "obsolete"


class Priority(enum.StrEnum):
    """Priority of a requirement or a test specification."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DataType(enum.StrEnum):
    """What a parameter's values are; every value is stored as text and parsed by this type."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"

    @property
    def is_numeric(self) -> bool:
        return self in {DataType.INTEGER, DataType.FLOAT}


class RunStatus(enum.StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    DONE = "done"


class ExecutionStatus(enum.StrEnum):
    """What an execution (or one of its steps) came to; `not_run` until recorded."""

    NOT_RUN = "not_run"
    PASSED = "passed"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    ERROR = "error"
