#!/usr/bin/env bash
# Install what the tests' private servers need (Debian packages): PostgreSQL's server
# binaries for throwaway clusters, PgBouncer, openssl for the test CA. Idempotent; needs root.
# Only installs: the tests start their own servers on free loopback ports with private
# configurations in temporary folders (tests/connectivity/servers.py). The packages may start
# their own services (a cluster, PgBouncer on 6432); the tests use neither.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
