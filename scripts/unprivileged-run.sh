#!/usr/bin/env bash
# The suite's server-starting parts as a developer without root runs them: the throwaway
# clusters and PgBouncer run as that user (no runuser, no chown), the migrations and the
# database core on both backends, then the migrations on PostgreSQL 16 from the pgserver
# wheel. As root, this runs them as a dedicated unprivileged user (created if missing) on a
# copy of the tree that user owns, with its own venv; as anyone else, as yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
user=tasktracker-dev
tests=(tests/connectivity tests/db tests/migrations)
# Then the migrations again on the pgserver wheel's PostgreSQL 16, on a throwaway cluster that
# user's initdb makes ([test-pg]; tests/migrations/test_versions.py compares 15 and 16 too).
run=(bash -c 'python3 -m venv .venv && .venv/bin/pip install -q -e ".[test,test-pg]" 2>&1 \
  | grep -v "^WARNING: Location" || true; .venv/bin/pytest -q -p no:cacheprovider --no-cov "$@" \
  && TASKTRACKER_TEST_POSTGRES=cluster TASKTRACKER_PG_BIN=pgserver \
    .venv/bin/pytest -q -p no:cacheprovider --no-cov tests/migrations' _)

if [ "$(id -u)" -ne 0 ]; then
  exec "${run[@]}" "${tests[@]}"
fi
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
tar --exclude='./.venv*' --exclude=./.git --exclude='*.db' -cf - . | tar -xf - -C "$copy"
chown -R "$user:" "$copy"
chmod 755 "$copy"
cd "$copy"
runuser -u "$user" -- env TASKTRACKER_REQUIRE_POSTGRES="${TASKTRACKER_REQUIRE_POSTGRES:-}" \
  "${run[@]}" "${tests[@]}"
