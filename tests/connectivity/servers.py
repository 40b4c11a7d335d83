"""Real servers on loopback for the connectivity tests, started and stopped by the tests.

- `ThrowawayCluster`: a PostgreSQL cluster of its own (initdb into a temporary folder, pg_ctl
  on a free port on 127.0.0.1) with SCRAM password auth and SSL from a test CA generated here.
  Everything that needs a server configured unlike a stock one (SSL, stops, restarts) uses it,
  never the shared server, whose configuration no test touches.
- `PgBouncer`: PgBouncer's binary, in transaction pooling mode, with a private config in a
  temporary folder, in front of a PostgreSQL server.

Both run as the user running the tests; as root they run as the `postgres` user instead
(initdb and postgres refuse to run as root), or `nobody` where there is no `postgres` user
(a machine with only the pgserver wheel's binaries), or TASKTRACKER_SERVER_USER.
- `DelayedProxy`: a TCP forwarder that starts listening only after a delay (a server that
  "wakes up" while the client retries).
- `NoSslServer`: answers the PostgreSQL SSL request with "no", and counts connection attempts.

Every wait is bounded; every helper stops what it started.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import pwd
import select
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

AS_ROOT = os.geteuid() == 0


@functools.cache
def pgserver_bin() -> Path | None:
    """The server binaries bundled in the `pgserver` wheel (PostgreSQL 16), if installed.

    Found without importing `pgserver` (its import touches the user's runtime folders)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "initdb").exists():
        return None
    return _reachable_by_server_user(install) / "bin"


def _reachable_by_server_user(install: Path) -> Path:
    """`install` itself if the servers' user can reach it, else a copy this run owns.

    As root the servers run as another user, who cannot enter a private checkout (a clone
    in `mktemp -d`, mode 700) to run a wheel's binaries from its virtualenv. The copy (about
    40 MB) keeps the wheel's layout: the binaries find their libraries and data files beside
    them, and the shared libraries the wheel vendors in `pgserver.libs`, by relative paths.
    It goes in a fresh folder of root's that others may read, removed when the process ends."""
    if not AS_ROOT or all(folder.stat().st_mode & stat.S_IXOTH for folder in install.parents):
        return install
    copy = Path(tempfile.mkdtemp(prefix="tasktracker-pgserver-"))
    copy.chmod(0o755)
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    package = install.parent
    vendored = package.parent / f"{package.name}.libs"
    if vendored.is_dir():
        shutil.copytree(vendored, copy / vendored.name, symlinks=True)
    return Path(shutil.copytree(install, copy / package.name / install.name, symlinks=True))


def system_pg_bins() -> list[Path]:
    """Every Debian install's binaries folder, oldest major version first."""
    found = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    return [path.parent for path in sorted(found, key=lambda p: int(p.parts[-3]))]


def _pg_bin() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: TASKTRACKER_PG_BIN (`pgserver` names the wheel's),
    else the newest Debian install, else whatever `initdb` the PATH finds, else the
    `pgserver` wheel's; None when there is none."""
    if configured := os.environ.get("TASKTRACKER_PG_BIN"):
        return pgserver_bin() if configured == "pgserver" else Path(configured)
    if versions := system_pg_bins():
        return versions[-1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else pgserver_bin()


def server_version(bin_dir: Path) -> str:
    """`16.2`, `15.20`: from `postgres --version` of the binaries in `bin_dir`."""
    out = subprocess.run(
        [bin_dir / "postgres", "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return out.split("(PostgreSQL)", 1)[-1].split()[0]  # "... 15.20 (Debian 15.20-0+deb12u1)"


def built_with_ssl(bin_dir: Path) -> bool:
    """Whether `postgres` in `bin_dir` links OpenSSL: Debian's does, the pgserver wheel's
    (configured without `--with-ssl`) does not, and refuses `ssl = on`."""
    try:
        return b"libssl.so" in (bin_dir / "postgres").read_bytes()
    except OSError:
        return False


def _ssl_pg_bin() -> Path | None:
    """The binaries of the SSL cluster: PG_BIN if built with SSL, else the newest Debian
    install that is (so a PostgreSQL 16 run from pgserver keeps its SSL tests, on 15)."""
    candidates = [PG_BIN] if PG_BIN is not None else []
    candidates += reversed(system_pg_bins())
    return next((path for path in candidates if built_with_ssl(path)), None)


def _pgbouncer_bin() -> Path | None:
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    return Path(found) if Path(found).exists() else None


PG_BIN = _pg_bin()
SSL_PG_BIN = _ssl_pg_bin()
PGBOUNCER_BIN = _pgbouncer_bin()
LOOPBACK = "127.0.0.1"


def _server_user() -> str:
    """Who runs the servers when the tests run as root: TASKTRACKER_SERVER_USER, else
    `postgres` (Debian's packages create it), else `nobody` (a machine with only the
    pgserver wheel's binaries has no `postgres` user; initdb needs only a user it is not)."""
    if configured := os.environ.get("TASKTRACKER_SERVER_USER"):
        return configured
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    return "postgres"


SERVER_USER = _server_user()
INSTALL_HINT = "apt-get install postgresql pgbouncer openssl (Debian; see README 'Tests')"


def missing_server_component(
    needs_pgbouncer: bool = False, needs_openssl: bool = True
) -> str | None:
    """Why a private server cannot be started here, with how to fix it; None if it can."""
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        where = PG_BIN or "/usr/lib/postgresql/*/bin, the PATH or the pgserver wheel"
        return f"PostgreSQL server binaries (initdb, pg_ctl) not found in {where}: " + (
            f"{INSTALL_HINT}, or pip install -e '.[test-pg]' (the pgserver wheel's), "
            "or set TASKTRACKER_PG_BIN to their folder"
        )
    if needs_openssl and SSL_PG_BIN is None:
        return (
            f"the server binaries in {PG_BIN} were built without SSL (the pgserver wheel's"
            f" are), and the SSL cluster needs ones built with it: {INSTALL_HINT}"
        )
    if needs_openssl and shutil.which("openssl") is None:
        return f"openssl not found (it makes the test CA): {INSTALL_HINT}"
    if needs_pgbouncer and PGBOUNCER_BIN is None:
        return f"pgbouncer not found: {INSTALL_HINT}"
    if AS_ROOT:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return (
                f"running as root, and there is no '{SERVER_USER}' user to run servers as"
                " (TASKTRACKER_SERVER_USER names another)"
            )
    return None


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


def _give_to_server_user(path: Path) -> None:
    if AS_ROOT:
        shutil.chown(path, SERVER_USER, _server_group())


def _server_group() -> int:
    return pwd.getpwnam(SERVER_USER).pw_gid


def _server_owned_dir(prefix: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    _give_to_server_user(directory)
    return directory


def _server_command(*args: str | Path) -> list[str]:
    command = [str(arg) for arg in args]
    return ["runuser", "-u", SERVER_USER, "--", *command] if AS_ROOT else command


def _as_server_user(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _server_command(*args), check=True, capture_output=True, text=True, timeout=timeout
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
            _give_to_server_user(path)
        self.server_key.chmod(0o600)


class ThrowawayCluster:
    """A private PostgreSQL cluster: SCRAM auth for `user`, SSL on, 127.0.0.1 only.

    `stock=True` makes one configured like a stock server instead (trust on loopback, no
    SSL, 100 connections): the suite's PostgreSQL when it runs on a cluster of its own
    (tests/databases.py, TASKTRACKER_TEST_POSTGRES). By default an SSL one runs from
    SSL_PG_BIN, a stock one from PG_BIN."""

    user = "tt_app"
    password = "tt-Pa55word-9f3c"  # grep-able: tests assert it never appears in output
    database = "tt_app"

    def __init__(
        self, bin_dir: Path | None = None, stock: bool = False, settings: str = ""
    ) -> None:
        bin_dir = bin_dir or (PG_BIN if stock else SSL_PG_BIN)
        assert bin_dir is not None, missing_server_component(needs_openssl=not stock)
        self.bin = bin_dir
        self.stock = stock
        self.settings = (
            settings  # more postgresql.conf lines (Citus's, tests/connectivity/citus.py)
        )
        self.directory = _server_owned_dir("tasktracker-cluster-")
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.certs = Certificates(self.directory)

    def create(self) -> None:
        if not self.stock:
            self.certs.generate()
        _as_server_user(
            self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions",
            *(("--locale=C.UTF-8",) if self.stock else ()),  # like the shared server's
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{LOOPBACK}'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.directory}'\n"
                "password_encryption = 'scram-sha-256'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
            if self.stock:
                conf.write("max_connections = 100\n")
            else:
                conf.write(
                    "ssl = on\n"
                    f"ssl_cert_file = '{self.certs.server_cert}'\n"
                    f"ssl_key_file = '{self.certs.server_key}'\n"
                    "max_connections = 60\n"
                )
            conf.write(self.settings)
        host_auth = "trust" if self.stock else "scram-sha-256"
        (self.data / "pg_hba.conf").write_text(
            f"local all postgres trust\nhost all all {LOOPBACK}/32 {host_auth}\n"
        )
        self.start()
        with self.admin() as admin:
            admin.execute(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
            admin.execute(f"CREATE DATABASE {self.database} OWNER {self.user}")

    def admin_url(self) -> str:
        """The superuser over TCP (a stock cluster trusts loopback), like the shared server's."""
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres"

    def start(self) -> None:
        pg_ctl = self.bin / "pg_ctl"
        _as_server_user(pg_ctl, "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        _as_server_user(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def restart(self) -> None:
        """A fast restart: every session is terminated, the server is away for a moment."""
        pg_ctl = self.bin / "pg_ctl"
        _as_server_user(
            pg_ctl, "-D", self.data, "-l", self.log, "-m", "fast", "-w", "-t", "30", "restart"
        )  # fmt: skip

    def start_in_recovery(self) -> None:
        """Start as a standby with hot standby off: the server runs but refuses every
        connection ("the database system is not accepting connections", 57P03, as while it
        starts up) until `promote()`."""
        _as_server_user("touch", self.data / "standby.signal")
        pg_ctl = self.bin / "pg_ctl"
        _as_server_user(
            pg_ctl, "-D", self.data, "-l", self.log, "-o", "-c hot_standby=off",
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def promote(self) -> None:
        """End the recovery `start_in_recovery` began: the server accepts connections."""
        _as_server_user(self.bin / "pg_ctl", "-D", self.data, "-w", "-t", "30", "promote")

    def is_running(self) -> bool:
        result = subprocess.run(
            _server_command(self.bin / "pg_ctl", "-D", self.data, "status"),
            capture_output=True,
            timeout=30,
            check=False,
        )
        return result.returncode == 0

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the cluster's private Unix socket (trust)."""
        return psycopg.connect(
            host=str(self.directory), port=self.port, user="postgres", dbname="postgres",
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def url(
        self,
        host: str = LOOPBACK,
        password: str | None = None,
        database: str | None = None,
        **query: str,
    ) -> str:
        secret = quote(self.password if password is None else password, safe="")
        params = "&".join(f"{key}={quote(value, safe='/')}" for key, value in query.items())
        base = f"postgresql://{self.user}:{secret}@{host}:{self.port}/{database or self.database}"
        return f"{base}?{params}" if params else base

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of `upstream_port`, trust auth."""

    def __init__(self, upstream_port: int = 5432, pool_size: int = 4) -> None:
        self.directory = _server_owned_dir("tasktracker-pgbouncer-")
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
            _give_to_server_user(path)
        assert PGBOUNCER_BIN is not None, missing_server_component(needs_pgbouncer=True)
        as_server_user: dict[str, Any] = (
            {"user": SERVER_USER, "group": _server_group(), "extra_groups": []} if AS_ROOT else {}
        )
        self.process = subprocess.Popen(
            [PGBOUNCER_BIN, ini],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **as_server_user,
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
def throwaway_cluster(
    bin_dir: Path | None = None, stock: bool = False, settings: str = ""
) -> Iterator[ThrowawayCluster]:
    cluster = ThrowawayCluster(bin_dir, stock, settings)
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
