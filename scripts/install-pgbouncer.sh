#!/usr/bin/env bash
# Install PgBouncer (Debian package) for the connectivity tests. Idempotent; run as root.
# Only installs: the tests start their own PgBouncer on loopback with a private config in a
# temporary folder (tests/connectivity/servers.py), never the system service.
set -euo pipefail
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends pgbouncer >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends pgbouncer >/dev/null
fi
# The package may have started its own service on 6432; the tests do not use it.
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
