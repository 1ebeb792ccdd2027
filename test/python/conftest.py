"""Fixtures of the official-client suite: OUR server as a subprocess, and MLflow clients pointed at it.

Environment:
  TEST_DATABASE_URL   PostgreSQL admin URL: our server then runs on a fresh database of that server
                      (dropped afterwards); unset: embedded PGlite in a temporary DATA_DIR.
                      test_mlflow_db.py also needs it (default postgres://postgres:postgres@127.0.0.1:5432/postgres).
  TEST_SERVER_URL     use an already running server instead of starting one (local iteration).
  TEST_OURS_STORE=s3  our server keeps its metadata (and artifacts) in S3 (METADATA_STORE=s3), on a
                      fresh bucket of the S3 server at S3_TEST_ENDPOINT (emptied and removed afterwards).
  TEST_AGAINST_MLFLOW=1  run the suite against MLflow's own `mlflow server` (on a fresh PostgreSQL
                      database) instead of ours: proves that the tests encode MLflow's behaviour.
  REQUIRE_ARTIFACTS=1 fail, rather than skip, the `artifacts` tests when the server does not serve
                      /api/2.0/mlflow-artifacts yet.
  TEST_AUTH_SERVERS   the servers test_auth.py runs against, comma-separated: `mlflow` (`mlflow server
                      --app-name basic-auth`) and/or `ours` (AUTH=basic); default both, side by side
                      (TEST_AGAINST_MLFLOW=1: mlflow only). Both run on fresh PostgreSQL databases.
  TEST_WORKSPACE_SERVERS  the servers test_workspaces.py runs against, comma-separated: `mlflow` (`mlflow
                      server --enable-workspaces`) and/or `ours` (MLFLOW_ENABLE_WORKSPACES=true); default
                      both (TEST_AGAINST_MLFLOW=1: mlflow only), on fresh PostgreSQL databases.
"""

from __future__ import annotations

import os
import re
import sys
import uuid

# The client must fail fast and honestly: no retries, short timeouts. Set before mlflow is imported.
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "30"
os.environ["MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS"] = "0"
for _k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME",
           "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
    os.environ.pop(_k, None)
# No usage telemetry: this machine reaches no outside host.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402
import requests  # noqa: E402

import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "artifacts: needs our server's /api/2.0/mlflow-artifacts endpoints (model downloads)"
    )
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (TEST_DATABASE_URL)")
    config.addinivalue_line(
        "markers", "own_server: the test starts its own servers (test_auth.py); the shared one is not started"
    )
    # stages are deprecated in MLflow 3 but still part of the API under test
    config.addinivalue_line("filterwarnings", "ignore:.*transition_model_version_stage.*:FutureWarning")
    config.addinivalue_line("filterwarnings", "ignore:.*get_latest_versions.*:FutureWarning")
    config.addinivalue_line("filterwarnings", "ignore:.*get_model_version_stages.*:FutureWarning")
    config.addinivalue_line("filterwarnings", "ignore:.*Add type hints to the `predict` method:UserWarning")


@pytest.fixture(scope="session")
def server_url():
    """Base URL of OUR server, started once per session."""
    if os.environ.get("TEST_SERVER_URL"):
        yield os.environ["TEST_SERVER_URL"].rstrip("/")
        return
    bucket = None
    if os.environ.get("TEST_AGAINST_MLFLOW") == "1":
        db = harness.create_database("pyclient_mlflow")
        proc = harness.start_mlflow(db)
    elif os.environ.get("TEST_OURS_STORE") == "s3":
        # Our server with its metadata in S3 (METADATA_STORE=s3), on a fresh bucket.
        db = None
        bucket = harness.S3MetadataBucket()
        proc = harness.start_ours(env=bucket.env)
    else:
        db = harness.create_database("pyclient") if os.environ.get("TEST_DATABASE_URL") else None
        proc = harness.start_ours(db)
    try:
        yield proc.url
    finally:
        proc.stop()
        if db:
            harness.drop_database(db)
        if bucket:
            bucket.cleanup()


@pytest.fixture(autouse=True)
def _fluent_uris(request):
    """Fluent APIs (mlflow.search_registered_models, mlflow.genai.*, models:/ URIs) use our server.

    Tests marked `own_server` (test_auth.py) start their own servers and do not need this one."""
    if request.node.get_closest_marker("own_server"):
        yield
        return
    server_url = request.getfixturevalue("server_url")
    import mlflow

    if mlflow.get_registry_uri() != server_url:
        mlflow.set_registry_uri(server_url)
    if mlflow.get_tracking_uri() != server_url:
        mlflow.set_tracking_uri(server_url)
    yield


@pytest.fixture()
def client(server_url):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server_url, registry_uri=server_url)


@pytest.fixture()
def name(request):
    """A registered-model name unique to this test."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")[:40]  # MLflow 3.17 refuses '/' and ':'

    return f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def artifacts_served(server_url):
    """Skips (or fails, REQUIRE_ARTIFACTS=1) when the server has no working mlflow-artifacts API."""
    try:
        r = requests.get(f"{server_url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "probe-nothing-here"}, timeout=10)
        ok = r.status_code == 200
        why = f"HTTP {r.status_code}: {r.text[:200]}"
    except requests.RequestException as e:
        ok, why = False, str(e)
    if not ok:
        msg = f"our server does not serve /api/2.0/mlflow-artifacts yet ({why})"
        if os.environ.get("REQUIRE_ARTIFACTS") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return True


@pytest.fixture(autouse=True)
def _artifacts_marker(request):
    if request.node.get_closest_marker("artifacts"):
        request.getfixturevalue("artifacts_served")


@pytest.fixture(scope="session")
def pg_admin():
    """PostgreSQL admin URL, or skip when no PostgreSQL server answers (fail in CI)."""
    reason = harness.postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI") or os.environ.get("TEST_DATABASE_URL"):
            pytest.fail(reason)
        pytest.skip(reason)
    return harness.admin_url()


# ---------------------------------------------------------------------------------------------
# Authentication (test_auth.py): the same suite against `mlflow server --app-name basic-auth` and ours
# ---------------------------------------------------------------------------------------------

AUTH_SERVER_KINDS = ("mlflow", "ours")


def server_kinds(variable: str) -> list[str]:
    """The server kinds a both-servers suite runs against: `variable` (comma-separated), default both."""
    raw = os.environ.get(variable)
    if raw is None:
        return ["mlflow"] if os.environ.get("TEST_AGAINST_MLFLOW") == "1" else list(AUTH_SERVER_KINDS)
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    bad = [k for k in kinds if k not in AUTH_SERVER_KINDS]
    if bad or not kinds:
        raise pytest.UsageError(f"{variable}={raw!r}: expected a comma-separated subset of {AUTH_SERVER_KINDS}")
    return kinds


def auth_server_kinds() -> list[str]:
    return server_kinds("TEST_AUTH_SERVERS")


class AuthServer:
    """A server with basic authentication on: which kind, its URL and its first admin's credentials."""

    def __init__(self, kind: str, url: str, admin_username: str, admin_password: str, default_permission: str):
        self.kind = kind
        self.url = url
        self.admin_username = admin_username
        self.admin_password = admin_password
        self.default_permission = default_permission

    def __repr__(self) -> str:
        return f"AuthServer({self.kind}, {self.url})"


@pytest.fixture(scope="module", params=auth_server_kinds())
def auth_server(request, pg_admin):
    """`mlflow server --app-name basic-auth` (kind "mlflow") or our server with AUTH=basic (kind "ours"),
    configured alike: fresh PostgreSQL databases, an admin from the configuration, and
    default_permission NO_PERMISSIONS (a user without a grant has no access), started once per module."""
    kind = request.param
    admin_username = "admin"
    admin_password = f"Adm1n-{uuid.uuid4().hex[:16]}"  # >= 12 characters, as both servers require
    default_permission = "NO_PERMISSIONS"
    dbs = []
    proc = None
    try:
        if kind == "mlflow":
            reason = harness.basic_auth_app_unavailable_reason()
            if reason:
                # A missing Flask-WTF is a broken environment, never a reason to skip in CI.
                if os.environ.get("CI"):
                    pytest.fail(reason)
                pytest.skip(reason)
            dbs = [harness.create_database("pyauth_mlflow"), harness.create_database("pyauth_mlflow_users")]
            proc = harness.start_mlflow_basic_auth(
                dbs[0], dbs[1], admin_username=admin_username, admin_password=admin_password,
                default_permission=default_permission,
                # A credential cache, as ours has: without it every request pays a scrypt check.
                # One worker, so password/admin/delete changes still take effect at once.
                config_extra={"auth_cache_ttl_seconds": "60"},
            )
        else:
            dbs = [harness.create_database("pyauth_ours")]
            proc = harness.start_ours_basic_auth(
                dbs[0], admin_username=admin_username, admin_password=admin_password,
                default_permission=default_permission,
            )
            # Fail every test of this server with one clear message rather than with a hundred
            # misleading assertion errors when authentication is not enforced at all.
            r = requests.get(proc.url + "/api/2.0/mlflow/registered-models/search", timeout=10)
            if r.status_code != 401:
                pytest.fail(
                    f"our server started with AUTH=basic does not require authentication: an anonymous "
                    f"GET /api/2.0/mlflow/registered-models/search answered HTTP {r.status_code}: {r.text[:200]}"
                )
        yield AuthServer(kind, proc.url, admin_username, admin_password, default_permission)
    except harness.ServerStartError as e:
        pytest.fail(f"{kind} server with authentication did not start: {e}")
    finally:
        if proc is not None:
            proc.stop()
        for db in dbs:
            harness.drop_database(db)


# ---------------------------------------------------------------------------------------------
# Workspaces (test_workspaces.py): the same suite against `mlflow server --enable-workspaces` and ours
# ---------------------------------------------------------------------------------------------


class WorkspaceServer:
    """A running server: which kind, its URL, and whether workspaces are on."""

    def __init__(self, kind: str, url: str, enabled: bool):
        self.kind = kind
        self.url = url
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"WorkspaceServer({self.kind}, {self.url}, workspaces {'on' if self.enabled else 'off'})"


# Webhook deliveries to a loopback receiver over http, on both servers. MLflow caches the webhooks of an
# event for MLFLOW_WEBHOOK_CACHE_TTL seconds keyed by the event alone, not by workspace (3.17.2,
# mlflow/webhooks/delivery.py), so with its cache a delivery could go to another workspace's hooks; 0 turns it off.
WORKSPACE_SERVER_ENV = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_CACHE_TTL": "0",
}


def _start_workspace_server(kind: str, enabled: bool):
    db = harness.create_database(f"pyws_{kind}{'' if enabled else '_off'}")
    proc = None
    try:
        proc = harness.start_workspace_server(kind, db, enabled=enabled, env=WORKSPACE_SERVER_ENV)
        if kind == "ours":
            # One clear failure for every test of this server instead of hundreds of misleading ones: the
            # official client sends nothing with an active workspace before server-info says they are on.
            r = requests.get(proc.url + "/api/3.0/mlflow/server-info", timeout=10)
            is_json = r.headers.get("content-type", "").startswith("application/json")
            got = r.json().get("workspaces_enabled") if is_json else None
            if r.status_code != 200 or got is not enabled:
                pytest.fail(
                    f"our server started with MLFLOW_ENABLE_WORKSPACES={'true' if enabled else 'false'}: GET "
                    f"/api/3.0/mlflow/server-info answered HTTP {r.status_code}: {r.text[:300]} (want 200 with "
                    f"workspaces_enabled: {str(enabled).lower()}, which MLflow's client checks before it sends "
                    f"X-MLFLOW-WORKSPACE)"
                )
        return db, proc
    except BaseException:
        if proc is not None:
            proc.stop()
        harness.drop_database(db)
        raise


def _workspace_server(kind: str, enabled: bool):
    """Starts the server, yields it, stops it and drops its database."""
    state = "with" if enabled else "without"
    try:
        db, proc = _start_workspace_server(kind, enabled)
    except harness.ServerStartError as e:
        pytest.fail(f"{kind} server {state} workspaces did not start: {e}")
    try:
        yield WorkspaceServer(kind, proc.url, enabled)
    finally:
        proc.stop()
        harness.drop_database(db)


@pytest.fixture(scope="module", params=server_kinds("TEST_WORKSPACE_SERVERS"))
def ws_server(request, pg_admin):
    """`mlflow server --enable-workspaces` or ours with MLFLOW_ENABLE_WORKSPACES=true, on a fresh PostgreSQL
    database, started once per module (webhooks may target loopback over http)."""
    yield from _workspace_server(request.param, True)


@pytest.fixture(scope="module", params=server_kinds("TEST_WORKSPACE_SERVERS"))
def ws_off_server(request, pg_admin):
    """The same servers with workspaces off (MLflow's default), for what a workspace header meets there."""
    yield from _workspace_server(request.param, False)
