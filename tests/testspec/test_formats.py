"""Key and name formats, and value parsing: the Python rules, and the database's CHECKs
agreeing with them on any string."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint, text

from tasktracker.db.sessions import Database
from tasktracker.testspec.enums import DataType
from tasktracker.testspec.formats import (
    COMMAND_NAME_PATTERN,
    KEY_PATTERN,
    PARAMETER_NAME_PATTERN,
    command_name_check,
    key_check,
    parameter_name_check,
    placeholders,
)
from tasktracker.testspec.values import InvalidValueError, ValueRule, parse_value, value_text


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            KEY_PATTERN,
            ["REQ-001", "SYS-PWR-12", "A", "TS1-2B"],
            ["", "req-1", "1A", "A--B", "A-", "-A", "A_B"],
        ),
        (COMMAND_NAME_PATTERN, ["SET_VOLTAGE", "A", "X9_"], ["", "set", "_A", "9A", "A-B", "A B"]),
        (PARAMETER_NAME_PATTERN, ["supply_voltage", "a", "v2"], ["", "Supply", "_a", "2a", "a-b"]),
    ],
)
def test_formats(pattern: re.Pattern[str], good: list[str], bad: list[str]) -> None:
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)


@pytest.mark.parametrize(
    ("data_type", "raw", "value"),
    [
        (DataType.INTEGER, "-12", -12),
        (DataType.INTEGER, "+3", 3),
        (DataType.FLOAT, "1e-3", 0.001),
        (DataType.FLOAT, ".5", 0.5),
        (DataType.FLOAT, "12", 12.0),
        (DataType.BOOLEAN, "true", True),
        (DataType.STRING, " any text ", " any text "),
    ],
)
def test_values_parse_by_data_type(data_type: DataType, raw: str, value: object) -> None:
    assert parse_value(data_type, raw) == value


@pytest.mark.parametrize(
    ("data_type", "raw"),
    [
        (DataType.INTEGER, "1.0"),
        (DataType.INTEGER, "1_000"),
        (DataType.INTEGER, " 1"),
        (DataType.FLOAT, "nan"),
        (DataType.FLOAT, "inf"),
        (DataType.FLOAT, "1e400"),
        (DataType.FLOAT, "1,5"),
        (DataType.BOOLEAN, "True"),
        (DataType.BOOLEAN, "1"),
    ],
)
def test_values_that_do_not_parse(data_type: DataType, raw: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_value(data_type, raw)


def test_ranges_and_text_forms() -> None:
    rule = ValueRule(DataType.FLOAT, 0, 30)
    assert rule.problem("30") is None
    assert rule.problem("30.01") == "30.01 is above the maximum 30"
    assert rule.problem("-1") == "-1 is below the minimum 0"
    assert [value_text(v) for v in (True, False, 12, 9.5, "x")] == [
        "true",
        "false",
        "12",
        "9.5",
        "x",
    ]


def test_placeholders() -> None:
    assert placeholders("SET {channel} {supply_voltage} {channel}") == [
        "channel",
        "supply_voltage",
        "channel",
    ]
    assert placeholders("no {placeholders here") == []


def _sql(check: CheckConstraint) -> str:
    return str(check.sqltext)


CHECKS = [
    (key_check("v"), KEY_PATTERN),
    (command_name_check("v"), COMMAND_NAME_PATTERN),
    (parameter_name_check("v"), PARAMETER_NAME_PATTERN),
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=st.text(alphabet="AZaz09-_ é", max_size=6))
def test_the_database_checks_agree_with_the_patterns(db: Database, value: str) -> None:
    with db.session() as session:
        for check, pattern in CHECKS:
            accepted = session.scalar(
                text(
                    f"SELECT CASE WHEN {_sql(check)} THEN 1 ELSE 0 END FROM (SELECT :v AS v) AS t"
                ),
                {"v": value},
            )
            assert bool(accepted) == bool(pattern.fullmatch(value)), (value, pattern.pattern)
