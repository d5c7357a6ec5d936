"""Real services for the scale-out tests and the tuning benchmark: PostgreSQL and an MLflow server.

Both start on 127.0.0.1 on a free port, in a temporary folder, and stop (and
are removed) when their context manager exits. PostgreSQL is Debian's
(``/usr/lib/postgresql/<version>/bin``); as root its commands run as the
``postgres`` user. ``benchmarks/bench_tuning.py`` imports this module too.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_postgres_bin", "free_port", "mlflow_server", "postgres_server"]

#: Settings for a throw-away test server: durability is not needed, speed is.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def find_postgres_bin() -> Path | None:
    """Return the folder of the newest installed PostgreSQL server binaries, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server: where it listens and how to reach its databases."""

    port: int
    folder: Path

    def url(self, database: str) -> str:
        """Return the SQLAlchemy URL of ``database`` (psycopg2 driver; trust auth, no password)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"


def _as_postgres(command: Sequence[str], *, timeout: float = 60) -> None:
    """Run a server command, as the ``postgres`` user when this process is root."""
    if os.geteuid() == 0:
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
    else:
        argv = list(command)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        )


@contextlib.contextmanager
def postgres_server(
    databases: Sequence[str] = ("optuna", "mlflow"),
    *,
    settings: Mapping[str, str] = FAST_SETTINGS,
) -> Iterator[PostgresServer]:
    """Start a fresh PostgreSQL on 127.0.0.1 with ``databases``; stop and remove it on exit.

    Parameters
    ----------
    databases : sequence of str
        Databases to create (owner ``postgres``).
    settings : mapping
        Server settings passed as ``-c key=value`` (default: no fsync, for tests).

    Raises
    ------
    RuntimeError
        If the binaries are missing or a step fails (with the server's message).
    """
    import psycopg2

    bindir = find_postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="clinai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "server.log"
    port = free_port()
    options = [f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"]
    options += [f"-c {key}={value}" for key, value in settings.items()]
    started = False
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        _as_postgres([*initdb, "-E", "UTF8", "--locale=C.UTF-8"])
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
        _as_postgres([*pg_ctl, "-l", str(log), "-o", " ".join(options), "-w", "start"])
        started = True
        connection = psycopg2.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                for name in databases:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        yield PostgresServer(port=port, folder=folder)
    finally:
        if started:
            _as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_group(process: subprocess.Popen[bytes], *, timeout: float = 60) -> None:
    """SIGTERM the server's process group and wait until every worker is gone."""
    pgid = process.pid  # started in a session of its own: its group id is its pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        if not _group_alive(pgid):
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def mlflow_server(
    backend_store_uri: str, artifacts: Path, *, start_timeout: float = 120
) -> Iterator[str]:
    """Start ``mlflow server`` (one worker) on 127.0.0.1; yield its ``http://`` URL.

    Artifacts are served by the server from the local folder ``artifacts``
    (``--artifacts-destination``), so clients upload them over HTTP. On exit
    the server's process group gets SIGTERM and is waited for.

    Raises
    ------
    RuntimeError
        If the server exits or does not answer ``/health`` within ``start_timeout``
        seconds (with the end of its log).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = artifacts.parent / "mlflow-server.log"
    command = [
        str(Path(sys.executable).with_name("mlflow")), "server",
        "--backend-store-uri", backend_store_uri,
        "--artifacts-destination", str(artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "ignore"}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + start_timeout
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"mlflow server did not start at {url}:\n{tail}")
            time.sleep(0.5)
        yield url
    finally:
        _stop_group(process)
