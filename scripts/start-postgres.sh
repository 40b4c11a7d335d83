#!/usr/bin/env bash
# Start the machine's PostgreSQL if it is down, and wait until it answers on 127.0.0.1:5432.
# It only starts the cluster as installed: it never edits its configuration, reloads or
# restarts it. Tests that need another configuration start servers of their own.
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q; then
  exit 0
fi
# The newest installed cluster (Debian's postgresql-common: "version name port status ...").
read -r version cluster _ < <(pg_lsclusters -h | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
  sleep 1
done
echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
