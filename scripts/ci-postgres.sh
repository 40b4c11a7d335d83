#!/usr/bin/env bash
# Make sure the machine's PostgreSQL runs, with SSL on, as the test suite needs both an
# encrypted and a plain connection to it. Uses Debian's snakeoil certificate when present,
# else a self-signed one made here. Idempotent; run as root (CI and developer machines are).
set -euo pipefail
version=$(ls /etc/postgresql | sort -V | tail -n 1)
confdir=/etc/postgresql/$version/main
conf=$confdir/postgresql.conf
cert=/etc/ssl/certs/ssl-cert-snakeoil.pem
key=/etc/ssl/private/ssl-cert-snakeoil.key

if [ ! -f "$cert" ] || [ ! -f "$key" ]; then
  cert=$confdir/tasktracker-server.crt
  key=$confdir/tasktracker-server.key
  if [ ! -f "$cert" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -keyout "$key" -out "$cert" 2>/dev/null
    chown postgres:postgres "$cert" "$key"
    chmod 600 "$key"
  fi
fi
if ! grep -Eq "^\s*ssl\s*=\s*on" "$conf"; then
  {
    echo "# added by tasktracker scripts/ci-postgres.sh"
    echo "ssl = on"
    echo "ssl_cert_file = '$cert'"
    echo "ssl_key_file = '$key'"
  } >> "$conf"
  if pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  fi
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
  sleep 1
done
echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
