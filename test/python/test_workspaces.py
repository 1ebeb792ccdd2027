"""Workspaces (MLflow 3.10+ multi-tenancy, issue 16) with the official MLflow 3.17.2 client.

The same tests, unchanged, run against `mlflow server --enable-workspaces` and against our server with
MLFLOW_ENABLE_WORKSPACES=true (fixture `ws_server` in conftest.py; TEST_WORKSPACE_SERVERS selects them),
each started once per module on a fresh PostgreSQL database, and against both again with workspaces off
(`ws_off_server`).

* the client's workspace functions: `mlflow.set_workspace`, `mlflow.create_workspace` / `get_workspace` /
  `list_workspaces` / `update_workspace` / `delete_workspace` (and MlflowClient's methods of the same
  names), MLflow's validation and messages, the three deletion modes (RESTRICT, CASCADE, SET_DEFAULT);
* how the X-MLFLOW-WORKSPACE header is resolved (absent or empty: `default`; unknown: 404; malformed: 400);
* every registry method under two workspaces: the same name in both is two models; versions, tags,
  aliases, stages, latest versions, download URIs, `models:/` sources, search with filters and pagination,
  prompts and webhooks (their deliveries too) are per workspace; a workspace never reads, changes or
  reveals another's models: every operation on a model that exists only in A answers in B exactly what
  it answers for a name that never existed;
* workspaces off: what the client and the server do with a workspace header (FEATURE_DISABLED, never a
  silent write to the default workspace), and the workspace API's 503.

Each test creates its own workspaces (unique names) and removes them afterwards (CASCADE).
"""

from __future__ import annotations

import contextlib
import uuid

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from receiver import WebhookReceiver
from util import assert_mlflow_error, workspace

pytestmark = [pytest.mark.own_server, pytest.mark.postgres]

WS_API = "/api/3.0/mlflow/workspaces"
API = "/api/2.0/mlflow"
HEADER = "X-MLFLOW-WORKSPACE"
DEFAULT_DESCRIPTION = "Default workspace for legacy resources"  # written by MLflow's migration
PATTERN_MSG = ("must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ "
               "(lowercase alphanumeric with optional internal hyphens).")
DISABLED_MSG = "Workspace APIs are not available: workspaces are not enabled on this server"


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------


def uniq(prefix: str) -> str:
    """A workspace (or model) name unique to this run: lowercase, digits and hyphens."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _server_and_no_workspace(request):
    """Fluent functions (mlflow.create_workspace, mlflow.genai.*) use this module's server; no test leaks an
    active workspace into the next (set_workspace also sets MLFLOW_WORKSPACE in the environment)."""
    fixture = "ws_server" if "ws_server" in request.fixturenames else "ws_off_server"
    server = request.getfixturevalue(fixture)
    mlflow.set_tracking_uri(server.url)
    mlflow.set_registry_uri(server.url)
    mlflow.set_workspace(None)
    try:
        yield
    finally:
        mlflow.set_workspace(None)


@pytest.fixture()
def client(ws_server):
    return MlflowClient(tracking_uri=ws_server.url, registry_uri=ws_server.url)


@pytest.fixture()
def two(ws_server):
    """Two fresh workspaces (A, B), deleted with everything in them afterwards."""
    a, b = uniq("team-a"), uniq("team-b")
    mlflow.create_workspace(a, description="team A")
    mlflow.create_workspace(b, description="team B")
    yield a, b
    mlflow.set_workspace(None)
    for w in (a, b):
        with contextlib.suppress(MlflowException):
            mlflow.delete_workspace(w, mode="CASCADE")


def http(server, method: str, path: str, ws: str | None = None, **kwargs) -> requests.Response:
    """A raw request, for what the client does not expose (status codes, headers, malformed input)."""
    headers = dict(kwargs.pop("headers", {}) or {})
    if ws is not None:
        headers[HEADER] = ws
    return requests.request(method, server.url + path, headers=headers, timeout=30, **kwargs)


def error_of(fn, *args, **kwargs) -> MlflowException:
    with pytest.raises(MlflowException) as e:
        fn(*args, **kwargs)
    return e.value


def assert_error(r: requests.Response, status: int, code: str, message: str | None = None) -> dict:
    assert r.status_code == status, f"want HTTP {status}, got {r.status_code}: {r.text[:500]}"
    body = r.json()
    assert body.get("error_code") == code, body
    if message is not None:
        assert body.get("message") == message, body
    return body


def sv(mv) -> tuple:
    """The comparable state of a ModelVersion."""
    return (mv.name, mv.version, mv.current_stage, mv.source, mv.run_id, mv.description, dict(mv.tags),
            sorted(mv.aliases))


def srm(rm) -> tuple:
    """The comparable state of a RegisteredModel."""
    return (rm.name, rm.description, dict(rm.tags), dict(sorted(rm.aliases.items())),
            sorted((v.version, v.current_stage) for v in rm.latest_versions))


def search_all_models(client, filter_string: str | None = None, page_size: int = 2) -> list[str]:
    names, token = [], None
    while True:
        page = client.search_registered_models(filter_string=filter_string, max_results=page_size, page_token=token)
        assert len(page) <= page_size
        names += [m.name for m in page]
        token = page.token
        if not token:
            return names


# ---------------------------------------------------------------------------------------------
# The workspace functions
# ---------------------------------------------------------------------------------------------


def test_workspace_functions_round_trip(ws_server):
    from mlflow.entities import Workspace

    name = uniq("crud")
    created = mlflow.create_workspace(name, description="team A", default_artifact_root="s3://bucket/team-a")
    assert isinstance(created, Workspace)
    assert (created.name, created.description, created.default_artifact_root) == (name, "team A", "s3://bucket/team-a")
    got = mlflow.get_workspace(name)
    assert (got.name, got.description, got.default_artifact_root) == (name, "team A", "s3://bucket/team-a")

    listed = {w.name: w for w in mlflow.list_workspaces()}
    assert "default" in listed and name in listed
    assert listed[name].description == "team A"
    default = mlflow.get_workspace("default")
    assert (default.name, default.description) == ("default", DEFAULT_DESCRIPTION)

    # update: only what is given changes; "" clears the artifact root
    updated = mlflow.update_workspace(name, description="team A, renamed")
    assert (updated.description, updated.default_artifact_root) == ("team A, renamed", "s3://bucket/team-a")
    cleared = mlflow.update_workspace(name, default_artifact_root="")
    assert (cleared.description, cleared.default_artifact_root) == ("team A, renamed", None)
    assert mlflow.get_workspace(name).default_artifact_root is None

    # MlflowClient has the same functions
    client = MlflowClient()
    other = uniq("crud-client")
    assert client.create_workspace(other).name == other
    assert client.get_workspace(other).description is None
    assert client.update_workspace(other, description="via client").description == "via client"
    assert {name, other} <= {w.name for w in client.list_workspaces()}
    client.delete_workspace(other)

    mlflow.delete_workspace(name)
    e = error_of(mlflow.get_workspace, name)
    assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST", f"Workspace '{name}' not found")
    assert name not in {w.name for w in mlflow.list_workspaces()}
    assert other not in {w.name for w in mlflow.list_workspaces()}


def test_set_workspace_validates_names_on_the_client(ws_server):
    for bad in ("Bad_Name", "x", "-lead", "api", "a" * 64):
        assert_mlflow_error(error_of(mlflow.set_workspace, bad), "INVALID_PARAMETER_VALUE")
    mlflow.set_workspace("default")  # always valid
    mlflow.set_workspace(None)


def test_workspace_api_validation(ws_server):
    """MLflow's checks and messages, on the wire (the client validates names itself before sending)."""
    name = uniq("val")
    r = http(ws_server, "POST", WS_API, json={"name": name, "description": "d"})
    assert r.status_code == 201, r.text
    assert r.json() == {"workspace": {"name": name, "description": "d"}}

    e = error_of(mlflow.create_workspace, name)
    assert_mlflow_error(e, "RESOURCE_ALREADY_EXISTS")
    assert f"Workspace '{name}' already exists." in e.message, e.message
    r = http(ws_server, "POST", WS_API, json={"name": name})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS")

    assert_mlflow_error(error_of(mlflow.create_workspace, "default"), "INVALID_PARAMETER_VALUE",
                        "The 'default' workspace is reserved and cannot be created")
    cases = {
        "Team": f"Workspace name 'Team' {PATTERN_MSG}",
        "a": "Workspace name 'a' must be between 2 and 63 characters.",
        "x" * 64: f"Workspace name '{'x' * 64}' must be between 2 and 63 characters.",
        "api": "Workspace name 'api' is reserved and cannot be used.",
        "workspaces": "Workspace name 'workspaces' is reserved and cannot be used.",
        "trailing-": f"Workspace name 'trailing-' {PATTERN_MSG}",
    }
    for bad, msg in cases.items():
        assert_error(http(ws_server, "POST", WS_API, json={"name": bad}), 400, "INVALID_PARAMETER_VALUE", msg)
    assert_error(http(ws_server, "POST", WS_API, json={}), 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'name'. See the API docs for more information about "
                 "request parameters.")
    assert_error(http(ws_server, "POST", WS_API, json={"name": uniq("rel"), "default_artifact_root": "relative/path"}),
                 400, "INVALID_PARAMETER_VALUE",
                 "Invalid value for 'default_artifact_root'. Expected a URI (for example 's3://bucket/prefix' or "
                 "'mlflow-artifacts:/prefix') or an absolute path, got 'relative/path'.")

    ghost = uniq("ghost")
    nf = f"Workspace '{ghost}' not found"
    assert_error(http(ws_server, "GET", f"{WS_API}/{ghost}"), 404, "RESOURCE_DOES_NOT_EXIST", nf)
    assert_error(http(ws_server, "PATCH", f"{WS_API}/{ghost}", json={"description": "x"}), 404,
                 "RESOURCE_DOES_NOT_EXIST", nf)
    assert_error(http(ws_server, "DELETE", f"{WS_API}/{ghost}"), 404, "RESOURCE_DOES_NOT_EXIST", nf)
    assert_error(http(ws_server, "GET", f"{WS_API}/NOPE"), 400, "INVALID_PARAMETER_VALUE",
                 f"Workspace name 'NOPE' {PATTERN_MSG}")
    assert_mlflow_error(error_of(mlflow.get_workspace, ghost), "RESOURCE_DOES_NOT_EXIST", nf)

    assert_error(http(ws_server, "PATCH", f"{WS_API}/{name}", json={}), 400, "INVALID_PARAMETER_VALUE",
                 "Workspace update must have at least one key")
    assert_mlflow_error(error_of(mlflow.update_workspace, name), "INVALID_PARAMETER_VALUE",
                        "Workspace update must have at least one key")

    assert_error(http(ws_server, "DELETE", f"{WS_API}/default"), 400, "INVALID_PARAMETER_VALUE",
                 "The 'default' workspace is reserved and cannot be deleted")
    assert_mlflow_error(error_of(mlflow.delete_workspace, "default"), "INVALID_PARAMETER_VALUE",
                        "The 'default' workspace is reserved and cannot be deleted")
    assert_error(http(ws_server, "DELETE", f"{WS_API}/{name}", params={"mode": "BOGUS"}), 400,
                 "INVALID_PARAMETER_VALUE",
                 "Invalid deletion mode 'BOGUS'. Must be one of: SET_DEFAULT, CASCADE, RESTRICT")
    assert_mlflow_error(error_of(mlflow.delete_workspace, name, mode="BOGUS"), "INVALID_PARAMETER_VALUE")

    r = http(ws_server, "DELETE", f"{WS_API}/{name}")
    assert r.status_code == 204 and r.text == "", r.text


def test_default_workspace_description_can_change_and_back(ws_server):
    changed = mlflow.update_workspace("default", description="shared")
    assert (changed.name, changed.description) == ("default", "shared")
    try:
        assert mlflow.get_workspace("default").description == "shared"
    finally:
        mlflow.update_workspace("default", description=DEFAULT_DESCRIPTION)
    assert mlflow.get_workspace("default").description == DEFAULT_DESCRIPTION


def assert_refused_state(r: requests.Response, message: str) -> None:
    """A deletion refused because of what the workspace holds: INVALID_STATE with MLflow's message. MLflow
    answers HTTP 500 (which its own client retries, then reports without the message); a 4xx is accepted too."""
    assert r.status_code == 500 or 400 <= r.status_code < 500, f"HTTP {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert (body.get("error_code"), body.get("message")) == ("INVALID_STATE", message), body


def test_deletion_modes(ws_server, client):
    model = uniq("held")

    # RESTRICT (the default) refuses while the workspace holds a model, and deletes nothing
    restrict = uniq("restrict")
    mlflow.create_workspace(restrict)
    with workspace(restrict):
        client.create_registered_model(model)
    assert isinstance(error_of(mlflow.delete_workspace, restrict), MlflowException)
    assert_refused_state(http(ws_server, "DELETE", f"{WS_API}/{restrict}"),
                         f"Cannot delete workspace '{restrict}': table 'registered_models' still contains 1 "
                         "resource(s). Remove or reassign them before deleting the workspace.")
    with workspace(restrict):
        assert client.get_registered_model(model).name == model

    # CASCADE deletes the workspace with its models; the name can be created again, empty
    mlflow.delete_workspace(restrict, mode="CASCADE")
    assert_mlflow_error(error_of(mlflow.get_workspace, restrict), "RESOURCE_DOES_NOT_EXIST")
    mlflow.create_workspace(restrict)
    with workspace(restrict):
        assert client.search_registered_models() == []
    mlflow.delete_workspace(restrict)

    # SET_DEFAULT moves the models (with versions, tags, aliases) into `default` ...
    moving = uniq("moving")
    mlflow.create_workspace(moving)
    with workspace(moving):
        client.create_registered_model(model, tags={"team": "moving"})
        client.create_model_version(model, "s3://bucket/held/1")
        client.set_registered_model_alias(model, "champion", "1")
    try:
        mlflow.delete_workspace(moving, mode="SET_DEFAULT")
        rm = client.get_registered_model(model)
        assert (rm.tags, rm.aliases) == ({"team": "moving"}, {"champion": "1"})
        assert client.get_model_version_by_alias(model, "champion").source == "s3://bucket/held/1"
        assert_mlflow_error(error_of(mlflow.get_workspace, moving), "RESOURCE_DOES_NOT_EXIST")

        # ... unless a name is taken there: then nothing moves and the workspace stays
        clash = uniq("clash")
        mlflow.create_workspace(clash)
        with workspace(clash):
            client.create_registered_model(model)
        assert isinstance(error_of(mlflow.delete_workspace, clash, mode="SET_DEFAULT"), MlflowException)
        assert_refused_state(
            http(ws_server, "DELETE", f"{WS_API}/{clash}", params={"mode": "SET_DEFAULT"}),
            f"Cannot reassign resources from workspace '{clash}' to 'default': the following names already exist "
            f"in the default workspace and would cause conflicts:\n  - registered_models: '{model}'\nRename or "
            "remove the conflicting resources before retrying.")
        with workspace(clash):
            assert client.get_registered_model(model).tags == {}
        mlflow.delete_workspace(clash, mode="CASCADE")
    finally:
        client.delete_registered_model(model)


# ---------------------------------------------------------------------------------------------
# The header
# ---------------------------------------------------------------------------------------------


def test_header_resolution(ws_server, two):
    a, _ = two
    name = uniq("hdr")
    r = http(ws_server, "POST", f"{API}/registered-models/create", json={"name": name})
    assert r.status_code == 200, r.text
    # absent, empty or "default": the default workspace
    for ws in (None, "", "default"):
        r = http(ws_server, "GET", f"{API}/registered-models/get", ws=ws, params={"name": name})
        assert r.status_code == 200 and r.json()["registered_model"]["name"] == name, (ws, r.text)
    # another workspace does not see it
    assert_error(http(ws_server, "GET", f"{API}/registered-models/get", ws=a, params={"name": name}), 404,
                 "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")

    ghost = uniq("ghost")
    for method, path, kwargs in (
        ("GET", f"{API}/registered-models/search", {}),
        ("GET", f"{API}/registered-models/get", {"params": {"name": name}}),
        ("POST", f"{API}/registered-models/create", {"json": {"name": uniq("never")}}),
        ("GET", f"{API}/model-versions/search", {}),
        ("GET", f"{API}/webhooks", {}),
    ):
        assert_error(http(ws_server, method, path, ws=ghost, **kwargs), 404, "RESOURCE_DOES_NOT_EXIST",
                     f"Workspace '{ghost}' not found")
        assert_error(http(ws_server, method, path, ws="Bad_Name", **kwargs), 400, "INVALID_PARAMETER_VALUE",
                     f"Workspace name 'Bad_Name' {PATTERN_MSG}")
    # nothing was created anywhere by the refused creates
    assert [m.name for m in MlflowClient().search_registered_models(filter_string="name LIKE 'never-%'")] == []

    # server-info answers whatever the header names, and says workspaces are on
    r = http(ws_server, "GET", "/api/3.0/mlflow/server-info", ws=ghost)
    assert r.status_code == 200 and r.json()["workspaces_enabled"] is True, r.text
    http(ws_server, "DELETE", f"{API}/registered-models/delete", json={"name": name})


# ---------------------------------------------------------------------------------------------
# Registry isolation
# ---------------------------------------------------------------------------------------------


def test_same_name_in_two_workspaces_is_two_models(ws_server, two, client, name):
    a, b = two
    with workspace(a):
        client.create_registered_model(name, tags={"team": "a"}, description="in A")
        client.create_model_version(name, "s3://bucket/a/1", tags={"w": "a"})
        client.create_model_version(name, "s3://bucket/a/2")
    with workspace(b):
        client.create_registered_model(name, tags={"team": "b"}, description="in B")
        assert client.create_model_version(name, "s3://bucket/b/1").version == "1"  # numbering is per model
    with workspace(a):
        rm = client.get_registered_model(name)
        assert (rm.description, rm.tags) == ("in A", {"team": "a"})
        assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["2", "1"]
        assert client.get_model_version(name, "1").tags == {"w": "a"}
    with workspace(b):
        rm = client.get_registered_model(name)
        assert (rm.description, rm.tags) == ("in B", {"team": "b"})
        assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["1"]
        assert client.get_model_version(name, "1").source == "s3://bucket/b/1"
        assert_mlflow_error(error_of(client.get_model_version, name, "2"), "RESOURCE_DOES_NOT_EXIST")
    # the default workspace has neither
    assert_mlflow_error(error_of(client.get_registered_model, name), "RESOURCE_DOES_NOT_EXIST")

    # changes in B leave A alone: update, tags, rename, delete
    with workspace(b):
        client.update_registered_model(name, description="B changed")
        client.set_registered_model_tag(name, "team", "b2")
        client.delete_model_version(name, "1")
        client.rename_registered_model(name, name + "-renamed")
    with workspace(a):
        rm = client.get_registered_model(name)
        assert (rm.description, rm.tags) == ("in A", {"team": "a"})
        assert client.get_model_version(name, "1").source == "s3://bucket/a/1"
        # renaming in A onto the name B now uses is fine: names are per workspace
        client.create_registered_model(name + "-renamed")
    with workspace(b):
        client.delete_registered_model(name + "-renamed")
    with workspace(a):
        assert client.get_registered_model(name).description == "in A"
        assert client.get_registered_model(name + "-renamed").name == name + "-renamed"
    # a workspace's models are there whichever way the workspace is chosen: MLFLOW_WORKSPACE works like set_workspace
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_WORKSPACE", a)
        assert client.get_registered_model(name).description == "in A"


def test_b_never_sees_a_model_of_a(ws_server, two, client):
    """Every registry method on a model that exists only in A answers in B exactly as for a name that never
    existed anywhere (error code and message), and A's model is unchanged afterwards."""
    a, b = two
    only, ghost = uniq("only-a"), uniq("ghost")
    with workspace(a):
        client.create_registered_model(only, tags={"secret": "yes"}, description="A's")
        client.create_model_version(only, "s3://bucket/only/1", run_id=uuid.uuid4().hex, tags={"t": "1"})
        client.create_model_version(only, "s3://bucket/only/2")
        client.set_registered_model_alias(only, "champion", "1")
        client.transition_model_version_stage(only, "2", "Staging")
        before = srm(client.get_registered_model(only))
        before_versions = [sv(client.get_model_version(only, v)) for v in ("1", "2")]

    calls = {
        "get_registered_model": lambda n: client.get_registered_model(n),
        "update_registered_model": lambda n: client.update_registered_model(n, description="B's"),
        "rename_registered_model": lambda n: client.rename_registered_model(n, n + "-stolen"),
        "delete_registered_model": lambda n: client.delete_registered_model(n),
        "set_registered_model_tag": lambda n: client.set_registered_model_tag(n, "secret", "no"),
        "delete_registered_model_tag": lambda n: client.delete_registered_model_tag(n, "secret"),
        "get_latest_versions": lambda n: client.get_latest_versions(n, stages=["Staging"]),
        "create_model_version": lambda n: client.create_model_version(n, "s3://bucket/b/x"),
        "get_model_version": lambda n: client.get_model_version(n, "1"),
        "update_model_version": lambda n: client.update_model_version(n, "1", description="B's"),
        "transition_model_version_stage": lambda n: client.transition_model_version_stage(
            n, "1", "Production", archive_existing_versions=True),
        "delete_model_version": lambda n: client.delete_model_version(n, "2"),
        "get_model_version_download_uri": lambda n: client.get_model_version_download_uri(n, "1"),
        "set_model_version_tag": lambda n: client.set_model_version_tag(n, "1", "t", "B"),
        "delete_model_version_tag": lambda n: client.delete_model_version_tag(n, "1", "t"),
        "set_registered_model_alias": lambda n: client.set_registered_model_alias(n, "champion", "2"),
        "delete_registered_model_alias": lambda n: client.delete_registered_model_alias(n, "champion"),
        "get_model_version_by_alias": lambda n: client.get_model_version_by_alias(n, "champion"),
        "copy_model_version": lambda n: client.copy_model_version(f"models:/{n}/1", uniq("copy")),
    }
    with workspace(b):
        for op, call in calls.items():
            seen = error_of(call, only)
            never = error_of(call, ghost)
            assert (seen.error_code, seen.message.replace(only, "<name>")) == (
                never.error_code, never.message.replace(ghost, "<name>")), op
        # searches find nothing, by name, tag, run or source
        assert client.search_registered_models(f"name = '{only}'") == []
        assert client.search_registered_models("tags.secret = 'yes'") == []
        assert client.search_model_versions(f"name = '{only}'") == []
        assert client.search_model_versions("source_path = 's3://bucket/only/1'") == []
        assert client.search_model_versions("tags.t = '1'") == []
        # a models:/ source resolves in B only
        e = error_of(client.create_model_version, ghost + "-x", f"models:/{only}/1")
        assert e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"), e.message

    with workspace(a):
        assert srm(client.get_registered_model(only)) == before
        assert [sv(client.get_model_version(only, v)) for v in ("1", "2")] == before_versions
        assert client.get_model_version_by_alias(only, "champion").version == "1"
        assert client.search_registered_models(f"name LIKE '{only}%'")[0].name == only


def test_versions_aliases_stages_and_uris_per_workspace(ws_server, two, client, name):
    a, b = two
    with workspace(a):
        client.create_registered_model(name)
        for i in (1, 2, 3):
            client.create_model_version(name, f"s3://bucket/a/{i}", run_id=f"{i:032x}")
        client.transition_model_version_stage(name, "1", "Production")
        client.transition_model_version_stage(name, "2", "Staging")
        client.set_registered_model_alias(name, "champion", "3")
        client.set_model_version_tag(name, "3", "validated", "true")
    with workspace(b):
        client.create_registered_model(name)
        client.create_model_version(name, "s3://bucket/b/1")
        client.transition_model_version_stage(name, "1", "Production")
        client.set_registered_model_alias(name, "champion", "1")
        # archiving in B touches B's versions only
        client.create_model_version(name, "s3://bucket/b/2")
        client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
        assert client.get_model_version(name, "1").current_stage == "Archived"
        latest = client.get_latest_versions(name, stages=["Production", "Archived"])
        assert {v.current_stage: v.version for v in latest} == {"Production": "2", "Archived": "1"}
        assert client.get_model_version_by_alias(name, "champion").source == "s3://bucket/b/1"
        assert client.get_model_version_download_uri(name, "2") == "s3://bucket/b/2"
        assert_mlflow_error(error_of(client.get_model_version_download_uri, name, "3"), "RESOURCE_DOES_NOT_EXIST")
        assert client.get_model_version(name, "1").tags == {}
        # a models:/ source resolves within the workspace
        copied = client.create_model_version(name, f"models:/{name}@champion")
        assert client.get_model_version_download_uri(name, copied.version) == "s3://bucket/b/1"
        client.delete_registered_model_alias(name, "champion")
    with workspace(a):
        assert client.get_model_version(name, "1").current_stage == "Production"
        assert {v.current_stage: v.version for v in client.get_latest_versions(name)} == {
            "Production": "1", "Staging": "2", "None": "3"}
        assert client.get_model_version_by_alias(name, "champion").version == "3"
        assert client.get_registered_model(name).aliases == {"champion": "3"}
        assert client.get_model_version_download_uri(name, "3") == "s3://bucket/a/3"
        assert client.get_model_version(name, "3").tags == {"validated": "true"}
        assert client.get_model_version(name, "3").aliases == ["champion"]
        copied = client.create_model_version(name, f"models:/{name}@champion")
        assert client.get_model_version_download_uri(name, copied.version) == "s3://bucket/a/3"
        # copy_model_version registers the copy in the same workspace
        copy = client.copy_model_version(f"models:/{name}/1", name + "-copy")
        assert (copy.name, copy.version, copy.source) == (name + "-copy", "1", f"models:/{name}/1")
        assert client.get_model_version_download_uri(name + "-copy", "1") == "s3://bucket/a/1"
        assert [v.version for v in client.search_model_versions(f"run_id = '{2:032x}'")] == ["2"]
        client.delete_model_version_tag(name, "3", "validated")
        client.update_model_version(name, "1", description="A's first")
        client.delete_registered_model_tag(name, "missing-is-fine")
    with workspace(b):
        assert_mlflow_error(error_of(client.get_registered_model, name + "-copy"), "RESOURCE_DOES_NOT_EXIST")
        assert client.get_model_version(name, "1").description == ""
        assert client.search_model_versions(f"run_id = '{2:032x}'") == []
        assert client.get_registered_model(name).aliases == {}


def test_search_filters_and_pagination_per_workspace(ws_server, two, client):
    a, b = two
    prefix = uniq("srch")
    a_names = [f"{prefix}-{i}" for i in range(5)]
    b_names = [f"{prefix}-{i}" for i in (0, 1, 7)]  # two names shared with A
    with workspace(a):
        for i, n in enumerate(a_names):
            client.create_registered_model(n, tags={"team": "red" if i % 2 else "blue", "ws": "a"})
            client.create_model_version(n, f"s3://bucket/{n}/1", tags={"ws": "a"})
    with workspace(b):
        for n in b_names:
            client.create_registered_model(n, tags={"team": "red", "ws": "b"})
            client.create_model_version(n, f"s3://bucket/{n}/1", tags={"ws": "b"})

    like = f"name LIKE '{prefix}-%'"
    with workspace(a):
        assert sorted(search_all_models(client, like)) == a_names
        assert sorted(search_all_models(client, like + " AND tags.team = 'red'")) == [a_names[1], a_names[3]]
        assert search_all_models(client, "tags.ws = 'b'") == []
        versions = client.search_model_versions(like, max_results=100)
        assert sorted(v.name for v in versions) == a_names
        assert {v.tags["ws"] for v in versions} == {"a"}
        page = client.search_model_versions(like, max_results=2)
        a_token = page.token
        assert a_token
        rm_page = client.search_registered_models(like, max_results=3)
        a_rm_token = rm_page.token
    with workspace(b):
        assert sorted(search_all_models(client, like)) == sorted(b_names)
        assert sorted(search_all_models(client, like + " AND tags.team = 'red'")) == sorted(b_names)
        assert sorted(search_all_models(client, "tags.ws = 'b'", page_size=1)) == sorted(b_names)
        assert search_all_models(client, "tags.ws = 'a'") == []
        assert sorted(v.name for v in client.search_model_versions(like)) == sorted(b_names)
        assert client.search_model_versions("tags.ws = 'a'") == []
        # A's page tokens, replayed in B, show B's models only
        rest = client.search_model_versions(like, max_results=100, page_token=a_token)
        assert {v.tags["ws"] for v in rest} <= {"b"}
        rest = client.search_registered_models(like, max_results=100, page_token=a_rm_token)
        assert {m.tags["ws"] for m in rest} <= {"b"}
        # the fluent search functions follow the active workspace too
        assert sorted(m.name for m in mlflow.search_registered_models(filter_string=like)) == sorted(b_names)
        assert sorted(v.name for v in mlflow.search_model_versions(filter_string=like)) == sorted(b_names)
    # the default workspace sees none of them
    assert search_all_models(client, like) == []
    assert client.search_model_versions(like) == []


def test_fluent_register_model_in_the_active_workspace(ws_server, two, name):
    a, b = two
    with workspace(a):
        mv = mlflow.register_model("s3://bucket/fluent/model", name, tags={"via": "fluent"})
        assert (mv.name, mv.version) == (name, "1")
    with workspace(b):
        assert mlflow.search_registered_models(filter_string=f"name = '{name}'") == []
        assert mlflow.register_model("s3://bucket/fluent/other", name).version == "1"
    with workspace(a):
        assert MlflowClient().get_model_version(name, "1").tags == {"via": "fluent"}


def test_prompts_per_workspace(ws_server, two):
    a, b = two
    pname = f"prompt_{uuid.uuid4().hex[:10]}"
    with workspace(a):
        mlflow.genai.register_prompt(pname, "Hello {{name}} from A", commit_message="a1")
        mlflow.genai.register_prompt(pname, "Hi {{name}} from A")
        mlflow.genai.set_prompt_alias(pname, alias="production", version=1)
    with workspace(b):
        assert mlflow.genai.load_prompt(pname, version=1, allow_missing=True) is None
        assert [p.name for p in mlflow.genai.search_prompts(f"name = '{pname}'")] == []
        p = mlflow.genai.register_prompt(pname, "Hello {{name}} from B")
        assert p.version == 1
        e = error_of(mlflow.genai.load_prompt, f"prompts:/{pname}@production")
        assert e.error_code in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"), e.message
        assert mlflow.genai.load_prompt(f"prompts:/{pname}@latest").template == "Hello {{name}} from B"
    with workspace(a):
        assert mlflow.genai.load_prompt(f"prompts:/{pname}@production").template == "Hello {{name}} from A"
        assert mlflow.genai.load_prompt(f"prompts:/{pname}@latest").version == 2
        assert [p.name for p in mlflow.genai.search_prompts(f"name = '{pname}'")] == [pname]
    with workspace(b):
        assert [p.name for p in mlflow.genai.search_prompts(f"name = '{pname}'")] == [pname]
        assert mlflow.genai.load_prompt(pname, version=2, allow_missing=True) is None
    assert mlflow.genai.search_prompts(f"name = '{pname}'") == []  # the default workspace


# ---------------------------------------------------------------------------------------------
# Artifacts: the mlflow-artifacts API stores a workspace's files under workspaces/<name>/
# ---------------------------------------------------------------------------------------------


def test_artifacts_per_workspace(ws_server, two, tmp_path):
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    a, b = two
    key = uniq("art")
    for w in (a, b):
        (tmp_path / w).mkdir()
        (tmp_path / w / "notes.txt").write_text(f"notes of {w}\n")
    with workspace(a):
        get_artifact_repository(f"mlflow-artifacts:/{key}").log_artifact(str(tmp_path / a / "notes.txt"))
        assert [f.path for f in get_artifact_repository(f"mlflow-artifacts:/{key}").list_artifacts()] == ["notes.txt"]
    with workspace(b):
        # B sees nothing at the same path, and cannot name A's files by their stored location
        assert get_artifact_repository(f"mlflow-artifacts:/{key}").list_artifacts() == []
        # (the artifact repository raises requests' HTTPError, with the server's answer in its text)
        with pytest.raises(Exception):  # noqa: B017
            mlflow.artifacts.download_artifacts(f"mlflow-artifacts:/{key}/notes.txt", dst_path=str(tmp_path / "b-dl"))
        with pytest.raises(Exception) as e:  # noqa: B017
            mlflow.artifacts.download_artifacts(f"mlflow-artifacts:/workspaces/{a}/{key}/notes.txt",
                                                dst_path=str(tmp_path / "b-dl2"))
        assert (f"Artifact path targets workspace '{a}' but the workspace specified in the request is '{b}'."
                in str(e.value))
        # the same path in B holds B's own file
        get_artifact_repository(f"mlflow-artifacts:/{key}").log_artifact(str(tmp_path / b / "notes.txt"))
        got = mlflow.artifacts.download_artifacts(f"mlflow-artifacts:/{key}/notes.txt",
                                                  dst_path=str(tmp_path / "b-own"))
        assert open(got).read() == f"notes of {b}\n"
    with workspace(a):
        got = mlflow.artifacts.download_artifacts(f"mlflow-artifacts:/{key}/notes.txt", dst_path=str(tmp_path / "a-dl"))
        assert open(got).read() == f"notes of {a}\n"
        # A may name its own stored location
        got = mlflow.artifacts.download_artifacts(f"mlflow-artifacts:/workspaces/{a}/{key}/notes.txt",
                                                  dst_path=str(tmp_path / "a-dl2"))
        assert open(got).read() == f"notes of {a}\n"
    # the default workspace sees neither
    assert get_artifact_repository(f"mlflow-artifacts:/{key}").list_artifacts() == []
    r = http(ws_server, "GET", f"{API}-artifacts/artifacts", ws=b, params={"path": f"workspaces/{a}"})
    assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                 f"Artifact path targets workspace '{a}' but the workspace specified in the request is '{b}'.")


def artifact_home(client) -> tuple[str | None, str]:
    """(run_id, artifact root) to upload a model under, in the active workspace.

    MLflow 3.17 accepts an mlflow-artifacts source only inside the artifact root of the run named by run_id,
    so there an experiment and a run are created first; our registry-only server has no runs (any
    mlflow-artifacts:/ path will do)."""
    try:
        run = client.create_run(client.create_experiment(uniq("exp")))
    except MlflowException:
        return None, f"mlflow-artifacts:/registry-tests/{uuid.uuid4().hex}"
    return run.info.run_id, run.info.artifact_uri


def test_models_uri_downloads_per_workspace(ws_server, two, client, name, tmp_path):
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    a, b = two
    for w in (a, b):
        (tmp_path / w / "model").mkdir(parents=True)
        (tmp_path / w / "model" / "notes.txt").write_text(f"model of {w}\n")

    def publish(w: str):
        """In the current workspace `w`: log w's files, register them as version 1 of `name`, download them."""
        rid, root = artifact_home(client)
        get_artifact_repository(f"{root}/model").log_artifacts(str(tmp_path / w / "model"))
        client.create_registered_model(name)
        client.create_model_version(name, f"{root}/model", run_id=rid)
        out = mlflow.artifacts.download_artifacts(f"models:/{name}/1", dst_path=str(tmp_path / f"{w}-dl"))
        assert open(f"{out}/notes.txt").read() == f"model of {w}\n"

    with workspace(a):
        publish(a)
    with workspace(b):
        e = error_of(mlflow.artifacts.download_artifacts, f"models:/{name}/1", dst_path=str(tmp_path / "b-dl"))
        assert_mlflow_error(e, "RESOURCE_DOES_NOT_EXIST")
        publish(b)
    with workspace(a):
        out = mlflow.artifacts.download_artifacts(f"models:/{name}/latest", dst_path=str(tmp_path / "a-again"))
        assert open(f"{out}/notes.txt").read() == f"model of {a}\n"


# ---------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


def test_webhooks_belong_to_their_workspace(ws_server, two, client, receiver, name):
    a, b = two
    events = ["registered_model.created", "model_version.created"]
    with workspace(a):
        hook_a = client.create_webhook(name="hook-a", url=receiver.base + "/a", events=events)
    with workspace(b):
        hook_b = client.create_webhook(name="hook-b", url=receiver.base + "/b", events=events)
        assert [h.webhook_id for h in client.list_webhooks()] == [hook_b.webhook_id]
        ghost_id = uuid.uuid4().hex
        for op, call in {
            "get_webhook": lambda i: client.get_webhook(i),
            "update_webhook": lambda i: client.update_webhook(i, description="B's"),
            "test_webhook": lambda i: client.test_webhook(i),
            "delete_webhook": lambda i: client.delete_webhook(i),
        }.items():
            seen, never = error_of(call, hook_a.webhook_id), error_of(call, ghost_id)
            assert (seen.error_code, seen.message.replace(hook_a.webhook_id, "<id>")) == (
                never.error_code, never.message.replace(ghost_id, "<id>")), op
    with workspace(a):
        assert [h.webhook_id for h in client.list_webhooks()] == [hook_a.webhook_id]
        assert client.get_webhook(hook_a.webhook_id).description in (None, "")
        # a test delivery carries the hook's workspace too
        assert client.test_webhook(hook_a.webhook_id).success
        test_delivery = receiver.next()
        assert (test_delivery.path, test_delivery.json().get("workspace")) == ("/a", a), test_delivery
    assert hook_a.webhook_id not in [h.webhook_id for h in client.list_webhooks()]  # default workspace

    # each workspace's events reach its own hook only, with the workspace in the payload
    with workspace(a):
        client.create_registered_model(name)
    delivery = receiver.next()
    path, payload = delivery.path, delivery.json()
    assert (path, payload["entity"], payload["action"], payload["data"]["name"]) == (
        "/a", "registered_model", "created", name)
    assert payload.get("workspace") == a
    with workspace(b):
        client.create_registered_model(name)
        client.create_model_version(name, "s3://bucket/hooked/1")
    got = sorted((d.path, d.json()["entity"], d.json().get("workspace")) for d in (receiver.next(), receiver.next()))
    assert got == [("/b", "model_version", b), ("/b", "registered_model", b)]
    # an event in the default workspace reaches neither
    client.create_registered_model(name)
    try:
        assert receiver.drain(2.0) == []
    finally:
        client.delete_registered_model(name)

    with workspace(b):
        client.delete_webhook(hook_b.webhook_id)
    with workspace(a):
        assert client.get_webhook(hook_a.webhook_id).name == "hook-a"


# ---------------------------------------------------------------------------------------------
# Workspaces off
# ---------------------------------------------------------------------------------------------


def assert_feature_disabled(r: requests.Response) -> None:
    """MLflow answers FEATURE_DISABLED with HTTP 500; a 4xx with the same body is accepted too (this project
    answers client mistakes with 4xx: the Python client retries a 500 for minutes)."""
    assert r.status_code == 500 or 400 <= r.status_code < 500, f"HTTP {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert (body.get("error_code"), body.get("message")) == ("FEATURE_DISABLED", DISABLED_MSG), body


def test_workspace_header_when_workspaces_are_off(ws_off_server):
    name = uniq("off")
    for ws in ("team-a", "default"):
        assert_feature_disabled(http(ws_off_server, "GET", f"{API}/registered-models/search", ws=ws))
        assert_feature_disabled(http(ws_off_server, "POST", f"{API}/registered-models/create", ws=ws,
                                     json={"name": name}))
        assert_feature_disabled(http(ws_off_server, "GET", f"{API}/webhooks", ws=ws))
    # never a silent write to the default workspace
    assert_error(http(ws_off_server, "GET", f"{API}/registered-models/get", params={"name": name}), 404,
                 "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")
    # an empty header is no header
    r = http(ws_off_server, "POST", f"{API}/registered-models/create", ws="", json={"name": name})
    assert r.status_code == 200, r.text

    r = http(ws_off_server, "GET", "/api/3.0/mlflow/server-info", ws="team-a")
    assert r.status_code == 200 and r.json()["workspaces_enabled"] is False, r.text
    # the workspace API is switched off (MLflow: 503 with a plain-text explanation)
    for method, path, kwargs in (("GET", WS_API, {}), ("POST", WS_API, {"json": {"name": "team-a"}}),
                                 ("GET", f"{WS_API}/default", {}), ("DELETE", f"{WS_API}/team-a", {})):
        r = http(ws_off_server, method, path, **kwargs)
        assert r.status_code == 503, f"{method} {path}: HTTP {r.status_code}: {r.text[:300]}"
        assert "--enable-workspaces" in r.text, r.text
    http(ws_off_server, "DELETE", f"{API}/registered-models/delete", json={"name": name})


def test_client_with_an_active_workspace_when_workspaces_are_off(ws_off_server):
    client = MlflowClient(tracking_uri=ws_off_server.url, registry_uri=ws_off_server.url)
    name = uniq("off-client")
    with workspace("team-a"):
        # the registry store asks server-info first and refuses on the client
        for call in (lambda: client.search_registered_models(), lambda: client.create_registered_model(name)):
            assert_mlflow_error(error_of(call), "FEATURE_DISABLED",
                                "Active workspace 'team-a' cannot be used because the remote server does not "
                                "support workspaces. Restart the server with --enable-workspaces or unset the "
                                "active workspace.")
        # webhooks are sent with the header, and the server refuses them
        assert isinstance(error_of(client.create_webhook, name="off-hook", url="https://example.com/hook",
                                   events=["model_version.created"]), MlflowException)
        assert isinstance(error_of(mlflow.list_workspaces), MlflowException)
    assert client.search_registered_models(f"name = '{name}'") == []
    assert [h.name for h in client.list_webhooks() if h.name == "off-hook"] == []
    for call in (mlflow.list_workspaces, lambda: mlflow.create_workspace("team-a"),
                 lambda: mlflow.get_workspace("default")):
        assert isinstance(error_of(call), MlflowException)
