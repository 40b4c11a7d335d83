"""Create and result schemas of test runs, executions, step results and baselines."""

from sqlmodel import Field

from tasktracker.db.base import Schema
from tasktracker.testspec.models.runs import (
    TestExecutionResult,
    TestRunFields,
    TestStepResultFields,
)
from tasktracker.testspec.models.versions import BaselineFields


class TestRunCreate(TestRunFields, Schema):
    pass


class ExecutionResultIn(TestExecutionResult, Schema):
    """What is recorded about an execution; the fields not set keep their values."""


class StepResultIn(TestStepResultFields, Schema):
    """The result of the step at `position` in the execution's pinned version."""

    position: int = Field(ge=1)


class BaselineCreate(BaselineFields, Schema):
    pass
