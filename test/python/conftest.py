"""Fixtures of the official-client suite: OUR server as a subprocess, and MLflow clients pointed at it.

Environment:
  TEST_DATABASE_URL   PostgreSQL admin URL: our server then runs on a fresh database of that server
                      (dropped afterwards); unset: embedded PGlite in a temporary DATA_DIR.
                      test_mlflow_db.py also needs it (default postgres://postgres:postgres@127.0.0.1:5432/postgres).
  TEST_SERVER_URL     use an already running server instead of starting one (local iteration).
  TEST_AGAINST_MLFLOW=1  run the suite against MLflow's own `mlflow server` (on a fresh PostgreSQL
                      database) instead of ours: proves that the tests encode MLflow's behaviour.
  REQUIRE_ARTIFACTS=1 fail, rather than skip, the `artifacts` tests when the server does not serve
                      /api/2.0/mlflow-artifacts yet.
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
    if os.environ.get("TEST_AGAINST_MLFLOW") == "1":
        db = harness.create_database("pyclient_mlflow")
        proc = harness.start_mlflow(db)
    else:
        db = harness.create_database("pyclient") if os.environ.get("TEST_DATABASE_URL") else None
        proc = harness.start_ours(db)
    try:
        yield proc.url
    finally:
        proc.stop()
        if db:
            harness.drop_database(db)


@pytest.fixture(scope="session", autouse=True)
def _fluent_uris(server_url):
    """Fluent APIs (mlflow.search_registered_models, mlflow.genai.*, models:/ URIs) use our server."""
    import mlflow

    mlflow.set_registry_uri(server_url)
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
