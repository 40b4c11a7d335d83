"""The commands and steps that use a parameter, a variant or a command."""

from __future__ import annotations

from tasktracker.db.sessions import Database
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.repositories.usage import UsageQueries
from tasktracker.testspec.services.steps import StepService
from tests.testspec.conftest import Bench, build_bench


def test_who_uses_a_parameter_a_variant_or_a_command(db: Database, bench: Bench, make_user) -> None:
    other = build_bench(db, make_user())  # the same names in another workspace: never counted
    for owner in (bench, other):
        with db.user_scope(owner.user) as session:
            two = TestSpecificationRepository(session).create({"key": "TS-002", "title": "t"}).id
            steps = StepService(session)
            channel = {"parameter_id": owner.channel, "value": 1}
            steps.insert(
                owner.spec,
                {
                    "action": "low",
                    "command_id": owner.set_voltage,
                    "arguments": [
                        channel,
                        {"parameter_id": owner.voltage, "variant_id": owner.low},
                    ],
                },
            )
            steps.insert(owner.spec, {"action": "look"})
            steps.insert(
                owner.spec,
                {"action": "measure", "command_id": owner.measure, "arguments": [channel]},
            )
            steps.insert(
                two,
                {
                    "action": "low again",
                    "command_id": owner.measure,
                    "arguments": [
                        channel,
                        {"parameter_id": owner.voltage, "variant_id": owner.low},
                    ],
                },
            )
    with db.user_scope(bench.user) as session:
        usage = UsageQueries(session)

        def where(steps: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
            return [(step.specification.key, step.position) for step in steps]

        commands = [c.name for c in usage.commands_using_parameter(bench.voltage)]
        assert commands == ["MEASURE_CURRENT", "SET_VOLTAGE"]
        assert where(usage.steps_using_parameter(bench.voltage)) == [
            ("TS-001", 1),
            ("TS-001", 3),
            ("TS-002", 1),
        ]
        assert where(usage.steps_binding_parameter(bench.voltage)) == [("TS-001", 1), ("TS-002", 1)]
        assert where(usage.steps_using_variant(bench.low)) == [("TS-001", 1), ("TS-002", 1)]
        assert where(usage.steps_using_variant(bench.nominal)) == []
        assert [c.name for c in usage.commands_using_variant(bench.low)] == [
            "MEASURE_CURRENT",
            "SET_VOLTAGE",
        ]
        assert where(usage.steps_using_command(bench.measure)) == [("TS-001", 3), ("TS-002", 1)]
        # TS-001 step 3 leaves supply_voltage to its default, but it is optional there.
        assert where(usage.steps_relying_on_default(bench.voltage)) == []
