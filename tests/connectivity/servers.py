"""Real servers on loopback for the connectivity tests, started and stopped by the tests.

- `ThrowawayCluster`: a PostgreSQL cluster of its own (initdb into a temporary folder owned by
  the postgres user, pg_ctl on a free port on 127.0.0.1) with SCRAM password auth and SSL from
  a test CA generated here. Destructive tests (stop, restart) use it, never the shared server.
- `PgBouncer`: the Debian package's binary, in transaction pooling mode, with a private config
  in a temporary folder, in front of a PostgreSQL server (installed by
  `scripts/install-pgbouncer.sh`).
- `DelayedProxy`: a TCP forwarder that starts listening only after a delay (a server that
  "wakes up" while the client retries).
- `NoSslServer`: answers the PostgreSQL SSL request with "no", and counts connection attempts.

Every wait is bounded; every helper stops what it started.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg


def _pg_bin() -> Path:
    """The newest installed PostgreSQL server binaries (Debian layout), unless configured."""
    if configured := os.environ.get("TASKTRACKER_PG_BIN"):
        return Path(configured)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
PGBOUNCER_BIN = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now (closed, so connecting is refused)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {LOOPBACK}:{port} after {timeout:.0f} s")


def _postgres_owned_dir(prefix: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(directory, "postgres", "postgres")
    return directory


def _as_postgres(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


class Certificates:
    """A test CA, a server certificate it signed for `localhost` only, and an unrelated CA."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca = directory / "ca.crt"
        self.other_ca = directory / "other-ca.crt"
        self.server_cert = directory / "server.crt"
        self.server_key = directory / "server.key"

    def generate(self) -> None:
        d = self.directory
        for name in ("ca", "other-ca"):
            _openssl(
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN=TaskTracker test {name}",
                "-keyout", d / f"{name}.key", "-out", d / f"{name}.crt",
            )  # fmt: skip
        (d / "server.ext").write_text("subjectAltName = DNS:localhost\n")
        _openssl(
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", self.server_key, "-out", d / "server.csr",
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", d / "server.csr", "-CA", self.ca, "-CAkey", d / "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", d / "server.ext", "-out", self.server_cert,
        )  # fmt: skip
        for path in (self.server_cert, self.server_key):
            shutil.chown(path, "postgres", "postgres")
        self.server_key.chmod(0o600)


class ThrowawayCluster:
    """A private PostgreSQL cluster: SCRAM auth for `user`, SSL on, 127.0.0.1 only."""

    user = "tt_app"
    password = "tt-Pa55word-9f3c"  # grep-able: tests assert it never appears in output
    database = "tt_app"

    def __init__(self) -> None:
        self.directory = _postgres_owned_dir("tasktracker-cluster-")
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.certs = Certificates(self.directory)

    def create(self) -> None:
        self.certs.generate()
        _as_postgres(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{LOOPBACK}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.directory}'\n"
                "ssl = on\n"
                f"ssl_cert_file = '{self.certs.server_cert}'\n"
                f"ssl_key_file = '{self.certs.server_key}'\n"
                "password_encryption = 'scram-sha-256'\n"
                "max_connections = 60\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        (self.data / "pg_hba.conf").write_text(
            f"local all postgres trust\nhost all all {LOOPBACK}/32 scram-sha-256\n"
        )
        self.start()
        with self.admin() as admin:
            admin.execute(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
            admin.execute(f"CREATE DATABASE {self.database} OWNER {self.user}")

    def start(self) -> None:
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def is_running(self) -> bool:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data),
             "status"],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        return result.returncode == 0

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the cluster's private Unix socket (trust)."""
        return psycopg.connect(
            host=str(self.directory), port=self.port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def url(self, host: str = LOOPBACK, password: str | None = None, **query: str) -> str:
        secret = quote(self.password if password is None else password, safe="")
        params = "&".join(f"{key}={quote(value, safe='/')}" for key, value in query.items())
        base = f"postgresql://{self.user}:{secret}@{host}:{self.port}/{self.database}"
        return f"{base}?{params}" if params else base

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of `upstream_port`, trust auth."""

    def __init__(self, upstream_port: int = 5432, pool_size: int = 4) -> None:
        self.directory = _postgres_owned_dir("tasktracker-pgbouncer-")
        self.port = free_port()
        self.upstream_port = upstream_port
        self.pool_size = pool_size
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ini = self.directory / "pgbouncer.ini"
        users = self.directory / "userlist.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(
            "[databases]\n"
            f"* = host={LOOPBACK} port={self.upstream_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = {LOOPBACK}\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {users}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 400\n"
            "query_wait_timeout = 15\n"  # a waiting client fails, never hangs
            "admin_users = postgres\n"
            f"logfile = {self.directory / 'pgbouncer.log'}\n"
        )
        for path in (ini, users):
            shutil.chown(path, "postgres", "postgres")
        self.process = subprocess.Popen(
            [PGBOUNCER_BIN, str(ini)],
            user="postgres",
            group="postgres",
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)


class DelayedProxy:
    """Listens on `port` only after `delay` seconds, then forwards every connection upstream."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.port = free_port()
        self.upstream_port = upstream_port
        self.delay = delay
        self.listening_since: float | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> DelayedProxy:
        self._spawn(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        if self._stop.wait(self.delay):
            return
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((LOOPBACK, self.port))
            listener.listen()
            listener.settimeout(0.1)
            self.listening_since = time.monotonic()
            while not self._stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                self._spawn(self._pipe, client)

    def _pipe(self, client: socket.socket) -> None:
        with client, socket.create_connection((LOOPBACK, self.upstream_port), timeout=5) as server:
            pair = {client: server, server: client}
            while not self._stop.is_set():
                readable, _, _ = select.select(list(pair), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)


class NoSslServer:
    """A 'server' that refuses SSL (answers the SSLRequest with N) and counts connections."""

    def __init__(self) -> None:
        self.connections = 0
        self.plain_startups = 0  # clients that went on without SSL after the "N"
        self._listener = socket.socket()
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> NoSslServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with client, contextlib.suppress(OSError):
                client.settimeout(2)
                client.recv(8)  # SSLRequest: length + code 80877103
                client.sendall(b"N")
                if client.recv(1024):  # a plain startup packet, if the client dares
                    self.plain_startups += 1


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    cluster = ThrowawayCluster()
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()


@contextlib.contextmanager
def pgbouncer(upstream_port: int = 5432, pool_size: int = 4) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(upstream_port, pool_size)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
