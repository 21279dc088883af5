"""PostgreSQL for tests: the server on 127.0.0.1:5432 if one is listening, else a throwaway cluster.

`pg_database` is one uniquely named database per test session (dropped at the end); `pg_dsn` is a
fresh schema in it per test (search_path in the DSN), so tests and runs never see each other's rows.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str = "postgres"

    def dsn(self, database: str, search_path: str = "") -> str:
        query = f"?search_path={search_path}" if search_path else ""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}{query}"


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass(frozen=True)
class ThrowawayCluster:
    """A PostgreSQL cluster of our own, which a test may freeze or stop (never do that to the shared one)."""

    server: PgServer
    data: str
    pg_ctl: str

    def stop(self) -> None:
        stop = [self.pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres(stop), capture_output=True)

    def _pids(self) -> list[int]:
        """The postmaster and its children (the backends serving our connections)."""
        with open(f"{self.data}/postmaster.pid") as pid_file:
            postmaster = int(pid_file.readline())
        children = []
        for status in glob.glob("/proc/[0-9]*/status"):
            with contextlib.suppress(OSError), open(status) as lines:
                if any(line.split() == ["PPid:", str(postmaster)] for line in lines):
                    children.append(int(status.split("/")[2]))
        return [postmaster, *children]

    def signal(self, signum: int) -> None:
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bins:
        pytest.skip("no /usr/lib/postgresql/*/bin to start a throwaway PostgreSQL")
    initdb, pg_ctl = f"{bins[-1]}/initdb", f"{bins[-1]}/pg_ctl"
    root = tempfile.mkdtemp(prefix="orch-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = f"{root}/data", _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]), **run)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres([pg_ctl, "-D", data, "-o", options, "-l", f"{root}/log", "-w", "start"]), **run)
    cluster = ThrowawayCluster(PgServer("127.0.0.1", port), data, pg_ctl)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[PgServer]:
    with throwaway_cluster() as cluster:
        yield cluster.server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if _listening("127.0.0.1", 5432):
        yield PgServer("127.0.0.1", 5432)
        return
    with _throwaway_cluster() as server:
        yield server


@pytest_asyncio.fixture(scope="session")
async def pg_database(pg_server: PgServer) -> AsyncIterator[str]:
    """The name of a database created for this session."""
    name = f"orch_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server.dsn("postgres"))
    try:
        # An English collation, where PostgreSQL 15+ has ICU: ordering by id must not depend on the locale.
        try:
            await admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")
        except asyncpg.PostgresError:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield name
    admin = await asyncpg.connect(pg_server.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture
async def pg_dsn(pg_server: PgServer, pg_database: str) -> AsyncIterator[str]:
    """A DSN whose tables land in a schema of their own, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server.dsn(pg_database))
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield pg_server.dsn(pg_database, schema)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await conn.close()
