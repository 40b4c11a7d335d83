#!/usr/bin/env bash
# The suite on the lowest versions pyproject.toml allows for every direct dependency (uv's
# --resolution lowest-direct), so the floors stay true. The package is installed from a
# wheel built here, not editable: the run also proves the wheel ships what it must (the
# migrations, py.typed). Coverage is measured by the main run, not this one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-lowest
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT

python3 -m venv "$tools/uv" && "$tools/uv/bin/pip" install -q uv
rm -rf "$venv"
python3 -m venv "$venv"
"$tools/uv/bin/uv" pip install -q --python "$venv/bin/python" --resolution lowest-direct '.[test,test-pg]'
"$venv/bin/python" - <<'PY'
import importlib.metadata as metadata
import pathlib

import tasktracker

package = pathlib.Path(tasktracker.__file__).parent
assert "site-packages" in package.parts, f"not the installed wheel: {package}"
assert (package / "py.typed").exists(), "the wheel has no py.typed"
assert (package / "migrations" / "versions").is_dir(), "the wheel has no migrations"
names = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "pydantic", "pydantic-settings",
         "tenacity", "pwdlib", "uuid-utils", "aiosqlite", "typer", "rich", "faker", "asyncpg",
         "fastapi", "httpx")
print("lowest versions:", ", ".join(f"{name} {metadata.version(name)}" for name in names))
PY
"$venv/bin/pytest" -q -p no:cacheprovider --no-cov -p no:randomly
