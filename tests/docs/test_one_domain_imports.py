"""A caller may import one domain alone: its tables' foreign keys to `users` still resolve."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["tasktracker.tasks.repository", "tasktracker.chat.repository", "tasktracker.testspec"],
)
def test_a_domain_imported_alone_configures_its_mappers(module: str) -> None:
    code = f"import {module}; from sqlalchemy.orm import configure_mappers; configure_mappers()"
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
