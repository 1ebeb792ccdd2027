"""Shared machinery of the Python compatibility suites (test/python, test/replay, scripts/replay.py).

* fresh PostgreSQL databases on the server named by TEST_DATABASE_URL (default: the local
  postgres://postgres:postgres@127.0.0.1:5432/postgres), dropped again afterwards;
* OUR server, started as `node --import tsx packages/server/src/main.ts` from the repo root on a free
  port, on PGlite (a temporary DATA_DIR) or on a PostgreSQL database;
* MLflow's own `mlflow server` from this virtualenv, on a PostgreSQL database (its SQL backend).

Both servers run in their own process group and are stopped by that group's id.
Only the standard library, requests and psycopg2 are used.
"""

from __future__ import annotations

import atexit
import base64
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import requests

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_ADMIN_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"

# Every process this module started and has not stopped yet: stopped at interpreter exit too.
_live: list[ServerProcess] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


def admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_ADMIN_URL


def postgres_unavailable_reason() -> str | None:
    """None when the admin database answers; otherwise why not."""
    try:
        import psycopg2

        conn = psycopg2.connect(admin_url(), connect_timeout=5)
        conn.close()
        return None
    except Exception as e:  # noqa: BLE001
        return f"PostgreSQL at {redact(admin_url())} is not reachable: {e}".strip()


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def sqlalchemy_url(url: str) -> str:
    """postgres://… → postgresql+psycopg2://… (SQLAlchemy 2.1 otherwise picks psycopg 3)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg2"))


def _admin_execute(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url(), connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_database(prefix: str = "pyt") -> str:
    """Creates an empty database with a unique name; returns its postgres:// URL."""
    name = f"{prefix}_{time.strftime('%m%d%H%M%S')}_{uuid.uuid4().hex[:8]}".lower()
    _admin_execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url(), name)


def drop_database(url: str) -> None:
    if os.environ.get("KEEP_TEST_DATABASES") == "1":
        return
    name = urlsplit(url).path.lstrip("/")
    try:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as e:  # noqa: BLE001
        print(f"harness: could not drop database {name}: {e}", file=sys.stderr)


def connect(url: str):
    import psycopg2

    return psycopg2.connect(url, connect_timeout=10)


# ---------------------------------------------------------------------------------------------
# Server processes
# ---------------------------------------------------------------------------------------------


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    """A server started in its own process group, with its output in a log file.

    The work directory (log, PGlite data, MLflow's artifacts) is removed when the server stops if this
    module created it (`owns_workdir`), unless KEEP_TEST_WORKDIRS=1."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: str, port: int, workdir: str,
                 stop_signal: int = signal.SIGTERM, owns_workdir: bool = False):
        self.name = name
        self.owns_workdir = owns_workdir
        self.stop_signal = stop_signal
        self.cmd = cmd
        self.env = env
        self.cwd = cwd
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float) -> ServerProcess:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        _live.append(self)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self._forget()
                self._remove_workdir()
                raise ServerStartError(
                    f"{self.name} exited with code {self.proc.returncode} before answering /health:\n{tail}"
                )
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return self
                last = f"HTTP {r.status_code}"
            except requests.RequestException as e:
                last = type(e).__name__
            time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        raise ServerStartError(f"{self.name} did not answer /health within {timeout:.0f}s ({last}):\n{tail}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            pgid = self.proc.pid  # start_new_session: the process leads its own group
            try:
                os.killpg(pgid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
            # children left in the group (uvicorn workers) go with it
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._forget()
        self._remove_workdir()

    def _remove_workdir(self) -> None:
        if self.owns_workdir and os.environ.get("KEEP_TEST_WORKDIRS") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _forget(self) -> None:
        if self in _live:
            _live.remove(self)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for p in list(_live):
        p.stop(timeout=5)


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    for k in ("DATABASE_URL", "PORT", "HOST", "DATA_DIR", "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL"):
        env.pop(k, None)
    # No usage telemetry from MLflow's processes: this machine reaches no outside host.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    env.update(extra or {})
    return env


def start_ours(
    database_url: str | None = None,
    *,
    data_dir: str | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 90,
) -> ServerProcess:
    """Starts our server: on `database_url` (PostgreSQL) if given, else PGlite under data_dir."""
    node = shutil.which("node")
    if node is None:
        raise ServerStartError("node is not on PATH")
    workdir = tempfile.mkdtemp(prefix="ours-")
    data_dir = data_dir or os.path.join(workdir, "data")
    port = port or free_port()
    e = _clean_env({"PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": data_dir, "LOG_LEVEL": "warn"})
    if database_url:
        e["DATABASE_URL"] = database_url
    e.update(env or {})
    cmd = [node, "--import", "tsx", "packages/server/src/main.ts"]
    return ServerProcess("ours", cmd, e, str(REPO_ROOT), port, workdir, owns_workdir=True).start(timeout)


class S3MetadataBucket:
    """A fresh bucket on the S3 server at S3_TEST_ENDPOINT, for our server with METADATA_STORE=s3 (its
    metadata under registry-metadata/, its artifacts under artifacts/). `cleanup` empties and removes it."""

    def __init__(self) -> None:
        import boto3

        endpoint = os.environ.get("S3_TEST_ENDPOINT")
        if not endpoint:
            raise ServerStartError("S3_TEST_ENDPOINT is not set (CI starts moto with scripts/ci/s3.sh)")
        self.name = f"pymeta-{uuid.uuid4().hex[:12]}"
        self._s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self._s3.create_bucket(Bucket=self.name)
        self.env = {"METADATA_STORE": "s3", "S3_BUCKET": self.name,
                    # METADATA_STORE=s3 needs it (the bucket holds the encrypted webhook secrets).
                    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(), "S3_PREFIX": "artifacts", "S3_ENDPOINT_URL": endpoint,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}

    def cleanup(self) -> None:
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.name):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self._s3.delete_objects(Bucket=self.name, Delete={"Objects": keys})
            self._s3.delete_bucket(Bucket=self.name)
        except Exception:  # the S3 server went first (CI stops it at the end): nothing is left then
            pass


def mlflow_command() -> list[str]:
    exe = pathlib.Path(sys.executable).with_name("mlflow")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mlflow"]


def start_mlflow(
    database_url: str,
    *,
    port: int | None = None,
    timeout: float = 180,
    app_name: str | None = None,
    env: dict[str, str] | None = None,
    workdir: str | None = None,
    workspaces: bool = False,
) -> ServerProcess:
    """Starts `mlflow server` (this venv's MLflow) with its SQL backend on `database_url`.

    On a fresh database this runs MLflow's own alembic migrations first. Job execution (huey
    workers) is turned off: the registry does not need it. `app_name` is passed as `--app-name`
    (e.g. "basic-auth", see start_mlflow_basic_auth), `env` is added to its environment,
    `workspaces` adds `--enable-workspaces` (MLflow's multi-tenancy, see start_workspace_server).
    """
    owns_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="mlflow-")
    port = port or free_port()
    e = _clean_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PYTHONUNBUFFERED": "1"})
    e.update(env or {})
    cmd = mlflow_command() + [
        "server",
        "--backend-store-uri", sqlalchemy_url(database_url),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
        "--artifacts-destination", os.path.join(workdir, "mlartifacts"),
    ]
    if app_name:
        cmd += ["--app-name", app_name]
    if workspaces:
        cmd += ["--enable-workspaces"]
    # Killed outright when done: its state is all in the database, and uvicorn's graceful stop takes seconds.
    return ServerProcess("mlflow", cmd, e, workdir, port, workdir, stop_signal=signal.SIGKILL,
                         owns_workdir=owns_workdir).start(timeout)


# ---------------------------------------------------------------------------------------------
# Authentication (test_auth.py): `mlflow server --app-name basic-auth` and ours with AUTH=basic
# ---------------------------------------------------------------------------------------------


def basic_auth_app_unavailable_reason() -> str | None:
    """None when this venv can run MLflow's basic-auth app (it imports flask_wtf); otherwise why not."""
    try:
        import flask_wtf  # noqa: F401
    except ImportError as e:
        return (f"MLflow's basic-auth app needs Flask-WTF, which is not installed in {sys.prefix} ({e}); "
                "run scripts/python-env.sh (test/python/requirements.txt pins it)")
    return None


def write_basic_auth_config(
    path: str,
    *,
    database_url: str,
    admin_username: str,
    admin_password: str,
    default_permission: str,
    extra: dict[str, str] | None = None,
) -> str:
    """Writes a copy of MLflow's basic_auth.ini with these settings (database_url: postgres://…); returns path."""
    import configparser

    import mlflow.server.auth as auth_pkg

    template = os.path.join(os.path.dirname(auth_pkg.__file__), "basic_auth.ini")
    cfg = configparser.ConfigParser()
    cfg.read(template)
    section = cfg["mlflow"]
    section["default_permission"] = default_permission
    section["database_uri"] = sqlalchemy_url(database_url)
    section["admin_username"] = admin_username
    section["admin_password"] = admin_password
    for k, v in (extra or {}).items():
        section[k] = v
    with open(path, "w", encoding="utf-8") as f:
        cfg.write(f)
    os.chmod(path, 0o600)
    return path


def start_mlflow_basic_auth(
    database_url: str,
    auth_database_url: str,
    *,
    admin_username: str,
    admin_password: str,
    default_permission: str,
    config_extra: dict[str, str] | None = None,
    timeout: float = 180,
) -> ServerProcess:
    """`mlflow server --app-name basic-auth`: backend store on `database_url`, its auth store (users,
    roles, grants; MLflow's own alembic schema) on `auth_database_url`, configured by a generated
    basic_auth.ini (MLFLOW_AUTH_CONFIG_PATH). The first start creates the admin user from it."""
    reason = basic_auth_app_unavailable_reason()
    if reason:
        raise ServerStartError(reason)
    workdir = tempfile.mkdtemp(prefix="mlflow-auth-")
    ini = write_basic_auth_config(
        os.path.join(workdir, "basic_auth.ini"),
        database_url=auth_database_url,
        admin_username=admin_username,
        admin_password=admin_password,
        default_permission=default_permission,
        extra=config_extra,
    )
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": ini,
        # CSRF protection of the signup form; any static key will do for a test server.
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
    }
    try:
        proc = start_mlflow(database_url, app_name="basic-auth", env=env, workdir=workdir, timeout=timeout)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    proc.owns_workdir = True  # the directory (with the generated basic_auth.ini) was made here
    return proc


def start_ours_basic_auth(
    database_url: str | None,
    *,
    admin_username: str,
    admin_password: str,
    default_permission: str,
    timeout: float = 90,
) -> ServerProcess:
    """Our server with authentication on (AUTH=basic), configured like start_mlflow_basic_auth."""
    return start_ours(database_url, env={
        "AUTH": "basic",
        "MLFLOW_AUTH_ADMIN_USERNAME": admin_username,
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
        "MLFLOW_AUTH_DEFAULT_PERMISSION": default_permission,
    }, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Workspaces (test_workspaces.py, test_mlflow_db.py, the replay's workspace section)
# ---------------------------------------------------------------------------------------------

WORKSPACE_SERVER_KINDS = ("mlflow", "ours")


def start_workspace_server(
    kind: str,
    database_url: str,
    *,
    enabled: bool = True,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """`mlflow server --enable-workspaces` (kind "mlflow") or our server with MLFLOW_ENABLE_WORKSPACES=true
    (kind "ours") on `database_url`; enabled=False starts either with workspaces off (MLflow's default)."""
    if kind == "mlflow":
        return start_mlflow(database_url, workspaces=enabled, env=env)
    if kind == "ours":
        return start_ours(database_url, env={"MLFLOW_ENABLE_WORKSPACES": "true" if enabled else "false", **(env or {})})
    raise ValueError(f"unknown server kind {kind!r} (one of {WORKSPACE_SERVER_KINDS})")


def mlflow_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("mlflow")
