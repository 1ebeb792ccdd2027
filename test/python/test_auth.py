"""Authentication and permissions with the official MLflow 3.17.2 clients (issue 22).

The same tests, unchanged, run against `mlflow server --app-name basic-auth` and against our server with
AUTH=basic (fixture `auth_server` in conftest.py; TEST_AUTH_SERVERS selects them). Both are configured
alike: a first admin from the configuration and default_permission NO_PERMISSIONS, so a user without a
grant on a model has no access to it.

* users: `mlflow.server.get_app_client("basic-auth", …)` (AuthServiceClient) as admin and as a plain user,
  plus the REST routes the client has no method for (list users, current user, permission listings);
* roles: create/get/list/update/delete, role permissions, assignments, and their effect on access;
* per-user grants: grant/get/revoke (MLflow 3.13+ `/api/3.0/mlflow/users/permissions/*`; the legacy
  per-resource endpoints are gone), MANAGE delegation, the creator's MANAGE, grants following a rename
  and swept by a delete;
* every registry operation with `MlflowClient` as users holding READ / EDIT / MANAGE / no grant on the
  model: allowed ones take effect, refused ones raise PERMISSION_DENIED (HTTP 403) and change nothing;
* 401 for no, unknown, wrong, outdated or deleted credentials; search shows only readable models.

Credentials travel as MLflow's clients send them: MLFLOW_TRACKING_USERNAME/PASSWORD, read per request
(`As` sets them around each call).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import get_app_client

from util import assert_mlflow_error

pytestmark = [pytest.mark.own_server, pytest.mark.postgres]

LEVELS = ("none", "READ", "EDIT", "MANAGE")
RANK = {"none": 0, "READ": 1, "EDIT": 3, "MANAGE": 4}
_CRED_VARS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


# ---------------------------------------------------------------------------------------------
# Acting as a user
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creds:
    username: str
    password: str


@contextlib.contextmanager
def credentials(creds: Creds | None):
    """MLflow's clients read these variables on every request (get_default_host_creds)."""
    saved = {k: os.environ.get(k) for k in _CRED_VARS}
    for k in _CRED_VARS:
        os.environ.pop(k, None)
    if creds is not None:
        os.environ["MLFLOW_TRACKING_USERNAME"] = creds.username
        os.environ["MLFLOW_TRACKING_PASSWORD"] = creds.password
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class As:
    """A client whose every method call is made with `creds` (None: anonymous)."""

    def __init__(self, target, creds: Creds | None):
        self._target = target
        self._creds = creds

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with credentials(self._creds):
                return attr(*args, **kwargs)

        return call


class Actor:
    """One user of the server: its credentials, a registry client and an auth client acting as it."""

    def __init__(self, server, creds: Creds | None):
        self.server = server
        self.creds = creds
        self.username = creds.username if creds else None
        self.registry = As(MlflowClient(tracking_uri=server.url, registry_uri=server.url), creds)
        self.auth = As(get_app_client("basic-auth", tracking_uri=server.url), creds)

    def http(self, method: str, path: str, **kwargs) -> requests.Response:
        """A raw request for the routes AuthServiceClient has no method for."""
        auth = (self.creds.username, self.creds.password) if self.creds else None
        return requests.request(method, self.server.url + path, auth=auth, timeout=30, **kwargs)


def refused(fn: Callable, *args, **kwargs) -> MlflowException:
    """The call is refused with 403 PERMISSION_DENIED; returns the exception."""
    with pytest.raises(MlflowException) as e:
        fn(*args, **kwargs)
    assert_mlflow_error(e.value, "PERMISSION_DENIED")
    assert e.value.get_http_status_code() == 403
    assert "Permission denied" in e.value.message, e.value.message
    return e.value


def unauthenticated(fn: Callable, *args, **kwargs) -> MlflowException:
    """The call is refused with 401 (UNAUTHENTICATED on the client side)."""
    with pytest.raises(MlflowException) as e:
        fn(*args, **kwargs)
    assert_mlflow_error(e.value, "UNAUTHENTICATED")
    assert e.value.get_http_status_code() == 401
    assert "You are not authenticated" in e.value.message, e.value.message
    return e.value


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------------
# Fixtures (the server itself: conftest.auth_server, one per kind and module)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(auth_server) -> Actor:
    return Actor(auth_server, Creds(auth_server.admin_username, auth_server.admin_password))


@pytest.fixture(scope="module")
def anonymous(auth_server) -> Actor:
    return Actor(auth_server, None)


@pytest.fixture(scope="module")
def new_user(auth_server, admin):
    """Factory: creates a user (as admin) and returns it as an Actor."""

    def make(prefix: str = "user") -> Actor:
        creds = Creds(uid(prefix), f"pw-{uuid.uuid4().hex[:16]}")
        admin.auth.create_user(creds.username, creds.password)
        return Actor(auth_server, creds)

    return make


@pytest.fixture(scope="module")
def level_users(new_user) -> dict[str, Actor]:
    """One user per permission level; each test grants its user the level on the test's own model."""
    return {level: new_user(f"u-{level.lower()}") for level in LEVELS}


@dataclass
class Model:
    name: str
    version: str  # the version the operations act on (has tag vt=v, alias "champion", stage None)


def make_model(admin: Actor, prefix: str = "m") -> Model:
    """As admin: a model with a tag, one version with a tag and an alias."""
    name = uid(prefix)
    admin.registry.create_registered_model(name, tags={"t": "v"}, description="d1")
    mv = admin.registry.create_model_version(name, f"s3://bucket/{name}/1", tags={"vt": "v"}, description="vd1")
    admin.registry.set_registered_model_alias(name, "champion", mv.version)
    return Model(name, str(mv.version))


def grant(admin: Actor, user: Actor, name: str, level: str) -> None:
    if level != "none":
        admin.auth.grant_user_permission(user.username, "registered_model", name, level)


def snapshot(admin: Actor, name: str):
    """What a refused call must leave unchanged: the model and its versions as admin sees them."""
    try:
        rm = admin.registry.get_registered_model(name)
    except MlflowException as e:
        return ("absent", e.error_code)
    versions = admin.registry.search_model_versions(f"name='{name}'")
    return (
        rm.name, rm.description, dict(rm.tags), dict(rm.aliases),
        sorted((v.version, v.current_stage, v.description, tuple(sorted(v.tags.items())), tuple(sorted(v.aliases)))
               for v in versions),
    )


# ---------------------------------------------------------------------------------------------
# Every registry operation × {none, READ, EDIT, MANAGE}
# ---------------------------------------------------------------------------------------------


@dataclass
class Op:
    name: str
    needs: str  # lowest level allowed (MLflow 3.17.2's validators)
    call: Callable  # (client, model) -> result
    check: Callable  # (admin, user, model, result) -> None, after an allowed call


def _renamed(m: Model) -> str:
    return m.name + "-renamed"


def _check_rename(admin, user, m, result):
    assert admin.registry.get_registered_model(_renamed(m)).name == _renamed(m)
    with pytest.raises(MlflowException) as e:
        admin.registry.get_registered_model(m.name)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")
    # the user's grant followed the model to its new name
    assert user.registry.get_registered_model(_renamed(m)).name == _renamed(m)


def _check_deleted_model(admin, user, m, result):
    with pytest.raises(MlflowException) as e:
        admin.registry.get_registered_model(m.name)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")


def _check_deleted_version(admin, user, m, result):
    with pytest.raises(MlflowException) as e:
        admin.registry.get_model_version(m.name, m.version)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")


OPS = [
    Op("get_registered_model", "READ",
       lambda c, m: c.get_registered_model(m.name),
       lambda a, u, m, r: (r.name == m.name and r.description == "d1" and r.tags == {"t": "v"}) or pytest.fail(repr(r))),
    Op("update_registered_model", "EDIT",
       lambda c, m: c.update_registered_model(m.name, description="d2"),
       lambda a, u, m, r: a.registry.get_registered_model(m.name).description == "d2" or pytest.fail("not updated")),
    Op("rename_registered_model", "EDIT",
       lambda c, m: c.rename_registered_model(m.name, _renamed(m)),
       _check_rename),
    Op("delete_registered_model", "MANAGE",
       lambda c, m: c.delete_registered_model(m.name),
       _check_deleted_model),
    Op("set_registered_model_tag", "EDIT",
       lambda c, m: c.set_registered_model_tag(m.name, "t2", "v2"),
       lambda a, u, m, r: a.registry.get_registered_model(m.name).tags == {"t": "v", "t2": "v2"} or pytest.fail("tag")),
    Op("delete_registered_model_tag", "EDIT",
       lambda c, m: c.delete_registered_model_tag(m.name, "t"),
       lambda a, u, m, r: a.registry.get_registered_model(m.name).tags == {} or pytest.fail("tag")),
    Op("set_registered_model_alias", "EDIT",
       lambda c, m: c.set_registered_model_alias(m.name, "challenger", m.version),
       lambda a, u, m, r: a.registry.get_registered_model(m.name).aliases == {"champion": m.version, "challenger": m.version}
       or pytest.fail("alias")),
    # MLflow gates alias deletion on can_delete (validate_can_delete_model_or_prompt_version_alias): MANAGE.
    Op("delete_registered_model_alias", "MANAGE",
       lambda c, m: c.delete_registered_model_alias(m.name, "champion"),
       lambda a, u, m, r: a.registry.get_registered_model(m.name).aliases == {} or pytest.fail("alias")),
    Op("get_model_version_by_alias", "READ",
       lambda c, m: c.get_model_version_by_alias(m.name, "champion"),
       lambda a, u, m, r: r.version == m.version or pytest.fail(repr(r))),
    Op("create_model_version", "EDIT",
       lambda c, m: c.create_model_version(m.name, f"s3://bucket/{m.name}/2"),
       lambda a, u, m, r: (str(r.version) == "2" and a.registry.get_model_version(m.name, "2").source == f"s3://bucket/{m.name}/2")
       or pytest.fail(repr(r))),
    Op("get_model_version", "READ",
       lambda c, m: c.get_model_version(m.name, m.version),
       lambda a, u, m, r: (r.version == m.version and r.description == "vd1" and r.tags == {"vt": "v"}) or pytest.fail(repr(r))),
    Op("update_model_version", "EDIT",
       lambda c, m: c.update_model_version(m.name, m.version, description="vd2"),
       lambda a, u, m, r: a.registry.get_model_version(m.name, m.version).description == "vd2" or pytest.fail("desc")),
    Op("delete_model_version", "MANAGE",
       lambda c, m: c.delete_model_version(m.name, m.version),
       _check_deleted_version),
    Op("transition_model_version_stage", "EDIT",
       lambda c, m: c.transition_model_version_stage(m.name, m.version, "Staging"),
       lambda a, u, m, r: (r.current_stage == "Staging" and a.registry.get_model_version(m.name, m.version).current_stage == "Staging")
       or pytest.fail(repr(r))),
    Op("set_model_version_tag", "EDIT",
       lambda c, m: c.set_model_version_tag(m.name, m.version, "vt2", "v2"),
       lambda a, u, m, r: a.registry.get_model_version(m.name, m.version).tags == {"vt": "v", "vt2": "v2"} or pytest.fail("tag")),
    # MLflow gates version-tag deletion on can_delete (validate_can_delete_model_or_prompt_version): MANAGE.
    Op("delete_model_version_tag", "MANAGE",
       lambda c, m: c.delete_model_version_tag(m.name, m.version, "vt"),
       lambda a, u, m, r: a.registry.get_model_version(m.name, m.version).tags == {} or pytest.fail("tag")),
    Op("get_latest_versions", "READ",
       lambda c, m: c.get_latest_versions(m.name, stages=["None"]),
       lambda a, u, m, r: [v.version for v in r] == [m.version] or pytest.fail(repr(r))),
    Op("get_model_version_download_uri", "READ",
       lambda c, m: c.get_model_version_download_uri(m.name, m.version),
       lambda a, u, m, r: r == f"s3://bucket/{m.name}/1" or pytest.fail(repr(r))),
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_registry_operation_permission(admin, level_users, op, level):
    user = level_users[level]
    m = make_model(admin)
    grant(admin, user, m.name, level)
    if RANK[level] >= RANK[op.needs]:
        result = op.call(user.registry, m)
        op.check(admin, user, m, result)
    else:
        before = snapshot(admin, m.name)
        refused(op.call, user.registry, m)
        assert snapshot(admin, m.name) == before


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_registry_operation_admin_needs_no_grant(admin, new_user, op):
    """An admin user (not the model's creator, no grant) may do everything."""
    other_admin = new_user("adm")
    admin.auth.update_user_admin(other_admin.username, True)
    m = make_model(admin)
    result = op.call(other_admin.registry, m)
    op.check(admin, other_admin, m, result)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_registry_operation_anonymous_is_401(admin, anonymous, op):
    m = make_model(admin)
    before = snapshot(admin, m.name)
    unauthenticated(op.call, anonymous.registry, m)
    assert snapshot(admin, m.name) == before


def test_create_registered_model_any_user_and_creator_gets_manage(admin, new_user):
    creator, other = new_user("creator"), new_user("other")
    name = uid("created")
    rm = creator.registry.create_registered_model(name, tags={"k": "v"})
    assert rm.name == name
    # The creator's grant is MANAGE, visible through the grant API (allowed mirrors USE and above).
    p = admin.auth.get_user_permission(creator.username, "registered_model", name)
    assert (p.permission, p.allowed) == ("MANAGE", True)
    # ... and a user may ask about its own permission.
    p = creator.auth.get_user_permission(creator.username, "registered_model", name)
    assert p.permission == "MANAGE"
    # The creator can do what MANAGE allows: versions, aliases, delete a version tag, grant others, delete.
    mv = creator.registry.create_model_version(name, f"s3://bucket/{name}/1", tags={"vt": "v"})
    creator.registry.set_registered_model_alias(name, "a", mv.version)
    creator.registry.delete_model_version_tag(name, mv.version, "vt")
    creator.registry.delete_registered_model_alias(name, "a")
    creator.auth.grant_user_permission(other.username, "registered_model", name, "READ")
    assert other.registry.get_registered_model(name).name == name
    refused(other.registry.set_registered_model_tag, name, "k", "v2")
    creator.registry.delete_registered_model(name)
    _check_deleted_model(admin, creator, Model(name, "1"), None)


def test_create_registered_model_duplicate_name_is_refused_before_existence(admin, new_user):
    """A user without access to an existing model learns nothing new by creating its name again:
    the create is allowed by the permission check and fails as a duplicate (400), as in MLflow."""
    m = make_model(admin)
    outsider = new_user("outsider")
    with pytest.raises(MlflowException) as e:
        outsider.registry.create_registered_model(m.name)
    assert_mlflow_error(e.value, "RESOURCE_ALREADY_EXISTS")
    # and the failed create granted nothing
    refused(outsider.registry.get_registered_model, m.name)


def test_missing_model_is_not_found_for_a_user_without_grant(new_user):
    """A model that does not exist: with no grant and default NO_PERMISSIONS, MLflow refuses (403) the
    read and the update rather than answering 404, so names cannot be probed."""
    user = new_user("prober")
    name = uid("missing")
    refused(user.registry.get_registered_model, name)
    refused(user.registry.update_registered_model, name, description="x")
    refused(user.registry.get_model_version, name, "1")


def test_delete_sweeps_grants_so_a_new_model_of_the_same_name_is_not_inherited(admin, new_user):
    reader = new_user("reader")
    m = make_model(admin)
    grant(admin, reader, m.name, "READ")
    assert reader.registry.get_registered_model(m.name).name == m.name
    admin.registry.delete_registered_model(m.name)
    admin.registry.create_registered_model(m.name)
    refused(reader.registry.get_registered_model, m.name)
    p = admin.auth.get_user_permission(reader.username, "registered_model", m.name)
    assert (p.permission, p.allowed) == ("NO_PERMISSIONS", False)


def test_rename_moves_grants(admin, new_user):
    editor = new_user("editor")
    m = make_model(admin)
    grant(admin, editor, m.name, "EDIT")
    admin.registry.rename_registered_model(m.name, _renamed(m))
    assert editor.registry.get_registered_model(_renamed(m)).name == _renamed(m)
    editor.registry.set_registered_model_tag(_renamed(m), "k", "v")
    assert admin.auth.get_user_permission(editor.username, "registered_model", _renamed(m)).permission == "EDIT"
    assert admin.auth.get_user_permission(editor.username, "registered_model", m.name).permission == "NO_PERMISSIONS"


# ---------------------------------------------------------------------------------------------
# Search: only readable models and versions, across pages
# ---------------------------------------------------------------------------------------------


def _all_pages(fn, **kwargs) -> list:
    out, token = [], None
    for _ in range(100):
        page = fn(page_token=token, **kwargs)
        out.extend(page)
        token = page.token
        if not token:
            return out
    pytest.fail("more than 100 pages")


def test_search_shows_only_readable_models_and_versions(admin, new_user):
    prefix = uid("srch")
    user = new_user("searcher")
    names = [f"{prefix}-{i:02d}" for i in range(9)]
    for n in names:
        admin.registry.create_registered_model(n)
        admin.registry.create_model_version(n, f"s3://bucket/{n}/1")
    # READ on 0, 3, 6; EDIT on 1; MANAGE on 2; nothing on the rest; plus one the user creates itself.
    for i, level in ((0, "READ"), (3, "READ"), (6, "READ"), (1, "EDIT"), (2, "MANAGE")):
        grant(admin, user, names[i], level)
    own = f"{prefix}-own"
    user.registry.create_registered_model(own)
    user.registry.create_model_version(own, f"s3://bucket/{own}/1")
    visible = sorted([names[i] for i in (0, 1, 2, 3, 6)] + [own])
    flt = f"name LIKE '{prefix}-%'"

    # models: one page, then page by page (the union is exact; no duplicates)
    got = user.registry.search_registered_models(filter_string=flt, max_results=100)
    assert sorted(m.name for m in got) == visible
    paged = _all_pages(user.registry.search_registered_models, filter_string=flt, max_results=2, order_by=["name ASC"])
    assert [m.name for m in paged] == visible
    # the first page is full: MLflow re-fetches to fill max_results, ours filters in SQL
    first = user.registry.search_registered_models(filter_string=flt, max_results=4, order_by=["name ASC"])
    assert [m.name for m in first] == visible[:4]
    # admin sees all
    assert sorted(m.name for m in admin.registry.search_registered_models(filter_string=flt, max_results=100)) == sorted(names + [own])

    # versions: the union of the pages (MLflow filters each page after the fact, so its pages may be
    # short; the union is what both servers must agree on)
    got = _all_pages(user.registry.search_model_versions, filter_string=flt, max_results=200)
    assert sorted(v.name for v in got) == visible
    paged = _all_pages(user.registry.search_model_versions, filter_string=flt, max_results=2, order_by=["name ASC"])
    assert sorted(v.name for v in paged) == visible
    assert len(_all_pages(admin.registry.search_model_versions, filter_string=flt, max_results=200)) == len(names) + 1

    # a user with no grants sees nothing
    nobody = new_user("nobody")
    assert list(nobody.registry.search_registered_models(filter_string=flt, max_results=100)) == []
    assert _all_pages(nobody.registry.search_model_versions, filter_string=flt, max_results=100) == []


def test_search_anonymous_is_401(anonymous):
    unauthenticated(anonymous.registry.search_registered_models)
    unauthenticated(anonymous.registry.search_model_versions, "name='x'")


# ---------------------------------------------------------------------------------------------
# Authentication: 401 answers, password changes, deleted users
# ---------------------------------------------------------------------------------------------


def test_401_and_403_answers_as_mlflow(auth_server, admin, new_user):
    """The raw answers: 401 with MLflow's text and its Basic challenge; 403 with "Permission denied"."""
    url = auth_server.url + "/api/2.0/mlflow/registered-models/get"
    m = make_model(admin)
    for auth in (None, (admin.creds.username, "wrong-password-123"), ("no-such-user-xyz", "whatever-password")):
        r = requests.get(url, params={"name": m.name}, auth=auth, timeout=30)
        assert r.status_code == 401, (auth, r.status_code, r.text)
        assert r.headers.get("WWW-Authenticate") == 'Basic realm="mlflow"'
        assert r.text == (
            "You are not authenticated. Please see "
            "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow "
            "on how to authenticate."
        )
    user = new_user("raw")
    r = user.http("GET", "/api/2.0/mlflow/registered-models/get", params={"name": m.name})
    assert (r.status_code, r.text) == (403, "Permission denied")
    # the same under /ajax-api
    r = user.http("GET", "/ajax-api/2.0/mlflow/registered-models/get", params={"name": m.name})
    assert (r.status_code, r.text) == (403, "Permission denied")
    r = requests.get(auth_server.url + "/ajax-api/2.0/mlflow/registered-models/get", params={"name": m.name}, timeout=30)
    assert r.status_code == 401
    # health stays open
    assert requests.get(auth_server.url + "/health", timeout=30).status_code == 200


def test_wrong_unknown_and_missing_credentials_are_401(auth_server, admin):
    m = make_model(admin)
    wrong = Actor(auth_server, Creds(admin.creds.username, admin.creds.password + "x"))
    unknown = Actor(auth_server, Creds(uid("ghost"), "some-long-password"))
    for actor in (wrong, unknown, Actor(auth_server, None)):
        unauthenticated(actor.registry.get_registered_model, m.name)
        unauthenticated(actor.registry.create_registered_model, uid("nope"))
        unauthenticated(actor.auth.get_user, admin.creds.username)


def test_password_update_by_admin_and_by_self(auth_server, admin, new_user):
    user = new_user("pw")
    m = make_model(admin)
    grant(admin, user, m.name, "READ")
    old = user.creds.password
    # admin: no current password needed
    admin.auth.update_user_password(user.username, "admin-set-password-1")
    unauthenticated(user.registry.get_registered_model, m.name)
    user = Actor(auth_server, Creds(user.username, "admin-set-password-1"))
    assert user.registry.get_registered_model(m.name).name == m.name
    # self-service: the current password is required, must match, and the new one must differ
    with pytest.raises(MlflowException) as e:
        user.auth.update_user_password(user.username, "self-set-password-2")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Current password is required when changing your own password.")
    with pytest.raises(MlflowException) as e:
        user.auth.update_user_password(user.username, "self-set-password-2", current_password=old)
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Current password does not match.")
    with pytest.raises(MlflowException) as e:
        user.auth.update_user_password(user.username, "admin-set-password-1", current_password="admin-set-password-1")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "New password must differ from the current password.")
    with pytest.raises(MlflowException) as e:
        user.auth.update_user_password(user.username, "short", current_password="admin-set-password-1")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Password must be at least 12 characters.")
    user.auth.update_user_password(user.username, "self-set-password-2", current_password="admin-set-password-1")
    unauthenticated(user.registry.get_registered_model, m.name)
    user = Actor(auth_server, Creds(user.username, "self-set-password-2"))
    assert user.registry.get_registered_model(m.name).name == m.name
    # nobody else's password
    other = new_user("pw-other")
    refused(user.auth.update_user_password, other.username, "hijacked-password-3")
    refused(user.auth.update_user_password, other.username, "hijacked-password-3", current_password=other.creds.password)
    assert other.auth.get_user(other.username).username == other.username


# ---------------------------------------------------------------------------------------------
# Users (admin) and what a plain user may do with users
# ---------------------------------------------------------------------------------------------


def test_users_create_get_list_delete(auth_server, admin):
    name = uid("alice")
    user = admin.auth.create_user(name, "alice-password-1")
    assert user.username == name
    assert isinstance(user.id, int)
    assert user.is_admin is False
    got = admin.auth.get_user(name)
    assert (got.id, got.username, got.is_admin) == (user.id, name, False)

    # list (no client method): every user with id, username, is_admin and roles
    r = admin.http("GET", "/api/2.0/mlflow/users/list")
    assert r.status_code == 200, r.text
    rows = {u["username"]: u for u in r.json()["users"]}
    assert rows[name] == {"id": user.id, "username": name, "is_admin": False, "roles": []}
    assert rows[auth_server.admin_username]["is_admin"] is True

    # the user reads itself, and its identity through /users/current
    me = Actor(auth_server, Creds(name, "alice-password-1"))
    assert me.auth.get_user(name).id == user.id
    r = me.http("GET", "/api/2.0/mlflow/users/current")
    assert r.status_code == 200, r.text
    assert r.json() == {"user": {"id": user.id, "username": name, "is_admin": False}, "is_basic_auth": True}

    admin.auth.delete_user(name)
    with pytest.raises(MlflowException) as e:
        admin.auth.get_user(name)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST", f"User with username={name} not found")
    unauthenticated(me.registry.search_registered_models)
    with pytest.raises(MlflowException) as e:
        admin.auth.delete_user(name)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")


def test_user_validation_errors(admin):
    name = uid("val")
    with pytest.raises(MlflowException) as e:
        admin.auth.create_user(name, "short")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Password must be at least 12 characters.")
    admin.auth.create_user(name, "long-enough-password")
    with pytest.raises(MlflowException) as e:
        admin.auth.create_user(name, "another-long-password")
    # MLflow 3.17.2 appends the database error, which prints the new password's hash (issue 22: ours
    # must not); only the code and the start of the message are common ground.
    assert_mlflow_error(e.value, "RESOURCE_ALREADY_EXISTS", f"User (username={name}) already exists.")
    assert e.value.get_http_status_code() == 400
    with pytest.raises(MlflowException) as e:
        admin.auth.update_user_password(uid("ghost"), "long-enough-password")
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")
    with pytest.raises(MlflowException) as e:
        admin.auth.update_user_admin(uid("ghost"), True)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")
    # an admin may not delete itself
    with pytest.raises(MlflowException) as e:
        admin.auth.delete_user(admin.username)
    assert_mlflow_error(e.value, "BAD_REQUEST", "Users cannot delete their own account.")


def test_update_admin_flag(admin, new_user):
    user, other = new_user("promoted"), new_user("bystander")
    m = make_model(admin)
    refused(user.registry.get_registered_model, m.name)
    refused(user.auth.get_user, other.username)
    admin.auth.update_user_admin(user.username, True)
    assert admin.auth.get_user(user.username).is_admin is True
    # an admin reads and changes any model and manages users
    assert user.registry.get_registered_model(m.name).name == m.name
    user.registry.delete_registered_model_alias(m.name, "champion")
    assert user.auth.get_user(other.username).username == other.username
    created = user.auth.create_user(uid("by-promoted"), "created-password-1")
    user.auth.delete_user(created.username)
    admin.auth.update_user_admin(user.username, False)
    assert admin.auth.get_user(user.username).is_admin is False
    refused(user.registry.get_registered_model, m.name)


def test_plain_user_cannot_administer_users(admin, new_user):
    user, other = new_user("plain"), new_user("target")
    refused(user.auth.create_user, uid("x"), "some-long-password")
    refused(user.auth.get_user, other.username)
    refused(user.auth.update_user_admin, other.username, True)
    refused(user.auth.update_user_admin, user.username, True)  # not even itself
    refused(user.auth.delete_user, other.username)
    refused(user.auth.delete_user, user.username)
    assert user.auth.get_user(user.username).is_admin is False
    # Listing users is open to every authenticated user when workspaces are off (MLflow:
    # validate_can_list_users = may create in the workspace; the reviewer UI needs the roster).
    r = user.http("GET", "/api/2.0/mlflow/users/list")
    assert r.status_code == 200, r.text
    assert {other.username, user.username} <= {u["username"] for u in r.json()["users"]}


# ---------------------------------------------------------------------------------------------
# Per-user grants (/api/3.0/mlflow/users/permissions/*)
# ---------------------------------------------------------------------------------------------


def test_grant_get_update_revoke(admin, new_user):
    user = new_user("granted")
    m = make_model(admin)
    p = admin.auth.get_user_permission(user.username, "registered_model", m.name)
    assert (p.permission, p.allowed) == ("NO_PERMISSIONS", False)

    admin.auth.grant_user_permission(user.username, "registered_model", m.name, "READ")
    p = admin.auth.get_user_permission(user.username, "registered_model", m.name)
    assert (p.permission, p.allowed) == ("READ", False)  # allowed mirrors can_use: READ is below USE
    assert user.registry.get_registered_model(m.name).name == m.name
    refused(user.registry.update_registered_model, m.name, description="x")

    # a second grant on the same resource is a duplicate; "update" is revoke + grant
    with pytest.raises(MlflowException) as e:
        admin.auth.grant_user_permission(user.username, "registered_model", m.name, "EDIT")
    assert_mlflow_error(
        e.value, "RESOURCE_ALREADY_EXISTS",
        f"Permission for user={user.username} on resource_type=registered_model, resource_id={m.name} already exists.",
    )
    admin.auth.revoke_user_permission(user.username, "registered_model", m.name)
    admin.auth.grant_user_permission(user.username, "registered_model", m.name, "EDIT")
    p = admin.auth.get_user_permission(user.username, "registered_model", m.name)
    assert (p.permission, p.allowed) == ("EDIT", True)
    user.registry.update_registered_model(m.name, description="by editor")
    refused(user.registry.delete_registered_model, m.name)

    # the user's grants, as listed for it and for the admin
    for actor, path, params in (
        (user, "/api/3.0/mlflow/users/current/permissions", None),
        (admin, "/api/3.0/mlflow/users/permissions/list", {"username": user.username}),
    ):
        r = actor.http("GET", path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["is_admin"] is False
        rows = [(x["workspace"], x["resource_type"], x["resource_pattern"], x["permission"]) for x in body["permissions"]]
        assert rows == [("default", "registered_model", m.name, "EDIT")]

    admin.auth.revoke_user_permission(user.username, "registered_model", m.name)
    p = admin.auth.get_user_permission(user.username, "registered_model", m.name)
    assert p.permission == "NO_PERMISSIONS"
    refused(user.registry.get_registered_model, m.name)
    with pytest.raises(MlflowException) as e:
        admin.auth.revoke_user_permission(user.username, "registered_model", m.name)
    assert_mlflow_error(
        e.value, "RESOURCE_DOES_NOT_EXIST",
        f"Permission for user={user.username} on resource_type=registered_model, resource_id={m.name} not found.",
    )


def test_grant_validation(admin, new_user):
    user = new_user("gv")
    m = make_model(admin)
    for bad in ("NO_PERMISSIONS", "OWNER"):
        with pytest.raises(MlflowException) as e:
            admin.auth.grant_user_permission(user.username, "registered_model", m.name, bad)
        assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", f"Invalid permission '{bad}'")
    with pytest.raises(MlflowException) as e:
        admin.auth.grant_user_permission(user.username, "no_such_type", m.name, "READ")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Invalid resource type 'no_such_type'")
    with pytest.raises(MlflowException) as e:
        admin.auth.grant_user_permission(uid("ghost"), "registered_model", m.name, "READ")
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")


def test_manage_delegates_granting_and_others_cannot_grant(admin, new_user):
    manager, editor, reader, outsider = (new_user(p) for p in ("mgr", "edt", "rdr", "out"))
    m = make_model(admin)
    grant(admin, manager, m.name, "MANAGE")
    grant(admin, editor, m.name, "EDIT")
    # MANAGE on the model lets a user grant, inspect and revoke others' permissions on it
    manager.auth.grant_user_permission(reader.username, "registered_model", m.name, "READ")
    assert reader.registry.get_registered_model(m.name).name == m.name
    manager.auth.revoke_user_permission(reader.username, "registered_model", m.name)
    refused(reader.registry.get_registered_model, m.name)
    # EDIT does not; nor does nothing
    refused(editor.auth.grant_user_permission, outsider.username, "registered_model", m.name, "READ")
    refused(outsider.auth.grant_user_permission, outsider.username, "registered_model", m.name, "MANAGE")
    refused(editor.auth.revoke_user_permission, manager.username, "registered_model", m.name)
    # a user reads its own permission, not another's (without being a workspace admin)
    assert editor.auth.get_user_permission(editor.username, "registered_model", m.name).permission == "EDIT"
    refused(editor.auth.get_user_permission, manager.username, "registered_model", m.name)
    # wildcard grants are for admins (or workspace admins) only, even with MANAGE on a model
    refused(manager.auth.grant_user_permission, outsider.username, "registered_model", "*", "READ")
    refused(outsider.registry.get_registered_model, m.name)


def test_deny_overrides_a_role_grant(admin, new_user):
    user = new_user("denied")
    m = make_model(admin)
    role = admin.auth.create_role("default", uid("readers"))
    admin.auth.add_role_permission(role.id, "registered_model", m.name, "READ")
    admin.auth.assign_role(user.username, role.id)
    assert user.registry.get_registered_model(m.name).name == m.name
    admin.auth.grant_user_permission(user.username, "registered_model", m.name, "DENY")
    assert admin.auth.get_user_permission(user.username, "registered_model", m.name).permission == "DENY"
    refused(user.registry.get_registered_model, m.name)
    flt = f"name='{m.name}'"
    assert list(user.registry.search_registered_models(filter_string=flt)) == []
    admin.auth.revoke_user_permission(user.username, "registered_model", m.name)
    assert user.registry.get_registered_model(m.name).name == m.name
    admin.auth.delete_role(role.id)


# ---------------------------------------------------------------------------------------------
# Roles (/api/3.0/mlflow/roles/*)
# ---------------------------------------------------------------------------------------------


def test_roles_crud_permissions_and_assignments(admin, new_user):
    user, other = new_user("member"), new_user("nonmember")
    m1, m2 = make_model(admin), make_model(admin)
    role_name = uid("role")
    role = admin.auth.create_role("default", role_name, description="model readers")
    assert (role.name, role.workspace, role.description, role.permissions) == (role_name, "default", "model readers", [])
    assert isinstance(role.id, int)
    got = admin.auth.get_role(role.id)
    assert (got.id, got.name, got.workspace, got.description) == (role.id, role_name, "default", "model readers")
    assert role.id in [r.id for r in admin.auth.list_roles("default")]
    assert role.id in [r.id for r in admin.auth.list_all_roles()]
    # role names are unique per workspace
    with pytest.raises(MlflowException) as e:
        admin.auth.create_role("default", role_name)
    assert_mlflow_error(e.value, "RESOURCE_ALREADY_EXISTS")

    updated = admin.auth.update_role(role.id, name=role_name + "-2", description="renamed")
    assert (updated.id, updated.name, updated.description) == (role.id, role_name + "-2", "renamed")

    rp = admin.auth.add_role_permission(role.id, "registered_model", m1.name, "READ")
    assert (rp.role_id, rp.resource_type, rp.resource_pattern, rp.permission) == (role.id, "registered_model", m1.name, "READ")
    assert [(p.id, p.permission) for p in admin.auth.list_role_permissions(role.id)] == [(rp.id, "READ")]
    assert [p.resource_pattern for p in admin.auth.get_role(role.id).permissions] == [m1.name]

    # not assigned yet: no access
    refused(user.registry.get_registered_model, m1.name)
    assignment = admin.auth.assign_role(user.username, role.id)
    assert assignment.role_id == role.id
    assert assignment.user_id == admin.auth.get_user(user.username).id
    assert [r.id for r in admin.auth.list_user_roles(user.username)] == [role.id]
    assert [a.role_id for a in admin.auth.list_role_users(role.id)] == [role.id]
    assert [a.user_id for a in admin.auth.list_role_users(role.id)] == [assignment.user_id]
    # a user sees its own roles
    assert [r.id for r in user.auth.list_user_roles(user.username)] == [role.id]

    assert user.registry.get_registered_model(m1.name).name == m1.name
    refused(user.registry.update_registered_model, m1.name, description="x")
    refused(user.registry.get_registered_model, m2.name)
    refused(other.registry.get_registered_model, m1.name)

    rp = admin.auth.update_role_permission(rp.id, "EDIT")
    assert rp.permission == "EDIT"
    user.registry.update_registered_model(m1.name, description="by role")
    refused(user.registry.delete_registered_model, m1.name)

    # a wildcard pattern covers every model; search follows
    wild = admin.auth.add_role_permission(role.id, "registered_model", "*", "READ")
    assert user.registry.get_registered_model(m2.name).name == m2.name
    got = {x.name for x in user.registry.search_registered_models(filter_string=f"name IN ('{m1.name}', '{m2.name}')")}
    assert got == {m1.name, m2.name}
    admin.auth.remove_role_permission(wild.id)
    refused(user.registry.get_registered_model, m2.name)

    admin.auth.unassign_role(user.username, role.id)
    assert admin.auth.list_user_roles(user.username) == []
    refused(user.registry.get_registered_model, m1.name)

    admin.auth.delete_role(role.id)
    with pytest.raises(MlflowException) as e:
        admin.auth.get_role(role.id)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")


def test_role_validation(admin):
    role = admin.auth.create_role("default", uid("rv"))
    with pytest.raises(MlflowException) as e:
        admin.auth.add_role_permission(role.id, "registered_model", "m", "NO_PERMISSIONS")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as e:
        admin.auth.add_role_permission(role.id, "no_such_type", "m", "READ")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Invalid resource type 'no_such_type'")
    with pytest.raises(MlflowException) as e:
        admin.auth.add_role_permission(role.id, "workspace", "*", "READ")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as e:
        admin.auth.create_role("default", "   ")
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "Role name cannot be empty.")
    with pytest.raises(MlflowException) as e:
        admin.auth.update_role(role.id)
    assert_mlflow_error(e.value, "INVALID_PARAMETER_VALUE", "At least one of 'name' or 'description' must be provided")
    with pytest.raises(MlflowException) as e:
        admin.auth.assign_role(uid("ghost"), role.id)
    assert_mlflow_error(e.value, "RESOURCE_DOES_NOT_EXIST")
    admin.auth.delete_role(role.id)


def test_plain_user_cannot_manage_roles(admin, new_user):
    user = new_user("norole")
    role = admin.auth.create_role("default", uid("locked"))
    refused(user.auth.create_role, "default", uid("mine"))
    refused(user.auth.get_role, role.id)
    refused(user.auth.list_roles, "default")
    refused(user.auth.list_all_roles)
    refused(user.auth.update_role, role.id, name="x")
    refused(user.auth.add_role_permission, role.id, "registered_model", "*", "MANAGE")
    refused(user.auth.assign_role, user.username, role.id)
    refused(user.auth.list_role_users, role.id)
    refused(user.auth.delete_role, role.id)
    assert admin.auth.list_role_permissions(role.id) == []
    assert admin.auth.list_role_users(role.id) == []
    admin.auth.delete_role(role.id)


# ---------------------------------------------------------------------------------------------
# More semantics: prompts, version tier, workspace admins, credentials, user deletion
# ---------------------------------------------------------------------------------------------


def test_prompt_grants_are_a_separate_namespace(admin, new_user):
    """A prompt is a registered model tagged mlflow.prompt.is_prompt; a registered_model grant on its
    name does not open it, a prompt grant does (and the other way round)."""
    user = new_user("prompter")
    name = uid("prompt")
    r = admin.http("POST", "/api/2.0/mlflow/registered-models/create",
                   json={"name": name, "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    assert r.status_code == 200, r.text
    # (MlflowClient hides prompts from its model methods: raw requests, as mlflow.genai sends them)
    def get():
        return user.http("GET", "/api/2.0/mlflow/registered-models/get", params={"name": name})

    admin.auth.grant_user_permission(user.username, "registered_model", name, "MANAGE")
    assert (get().status_code, get().text) == (403, "Permission denied")
    admin.auth.grant_user_permission(user.username, "prompt", name, "READ")
    r = get()
    assert r.status_code == 200 and r.json()["registered_model"]["name"] == name, r.text
    r = user.http("POST", "/api/2.0/mlflow/registered-models/set-tag", json={"name": name, "key": "k", "value": "v"})
    assert (r.status_code, r.text) == (403, "Permission denied")
    # and a prompt grant does not open a model of another name
    m = make_model(admin)
    admin.auth.grant_user_permission(user.username, "prompt", m.name, "MANAGE")
    refused(user.registry.get_registered_model, m.name)


def test_version_tier_deny_hides_versions_but_not_the_model(admin, new_user):
    """MLflow >= 3.12: a DENY on registered_model_version '*' (via a role) vetoes every version
    operation, while the model itself stays readable."""
    user = new_user("tier")
    m = make_model(admin)
    grant(admin, user, m.name, "EDIT")
    role = admin.auth.create_role("default", uid("no-versions"))
    admin.auth.add_role_permission(role.id, "registered_model_version", "*", "DENY")
    admin.auth.assign_role(user.username, role.id)
    assert user.registry.get_registered_model(m.name).name == m.name
    user.registry.set_registered_model_tag(m.name, "k", "v")
    refused(user.registry.get_model_version, m.name, m.version)
    refused(user.registry.get_latest_versions, m.name, stages=["None"])
    refused(user.registry.get_model_version_by_alias, m.name, "champion")
    refused(user.registry.create_model_version, m.name, f"s3://bucket/{m.name}/2")
    refused(user.registry.update_model_version, m.name, m.version, description="x")
    assert _all_pages(user.registry.search_model_versions, filter_string=f"name='{m.name}'", max_results=10) == []
    admin.auth.unassign_role(user.username, role.id)
    assert user.registry.get_model_version(m.name, m.version).version == m.version
    admin.auth.delete_role(role.id)


def test_workspace_manage_role_makes_a_workspace_admin(admin, new_user):
    """('workspace', '*', MANAGE) in the default workspace: MANAGE on every model there and the
    administration of that workspace's roles; still not a super admin."""
    wsadmin, user = new_user("wsadmin"), new_user("wsuser")
    m = make_model(admin)
    role = admin.auth.create_role("default", uid("ws-admins"))
    rp = admin.auth.add_role_permission(role.id, "workspace", "*", "MANAGE")
    assert (rp.resource_type, rp.resource_pattern, rp.permission) == ("workspace", "*", "MANAGE")
    admin.auth.assign_role(wsadmin.username, role.id)
    assert wsadmin.registry.get_registered_model(m.name).name == m.name
    wsadmin.registry.delete_registered_model_alias(m.name, "champion")
    # administers the default workspace's roles
    own = wsadmin.auth.create_role("default", uid("team"))
    wsadmin.auth.add_role_permission(own.id, "registered_model", m.name, "READ")
    wsadmin.auth.assign_role(user.username, own.id)
    assert user.registry.get_registered_model(m.name).name == m.name
    assert own.id in [r.id for r in wsadmin.auth.list_roles("default")]
    # ... but not the system: no unscoped role listing, no admin flags, no user deletion
    refused(wsadmin.auth.list_all_roles)
    refused(wsadmin.auth.update_user_admin, user.username, True)
    refused(wsadmin.auth.delete_user, user.username)
    wsadmin.auth.delete_role(own.id)
    refused(user.registry.get_registered_model, m.name)
    admin.auth.delete_role(role.id)


def test_credentials_edge_cases(auth_server, admin):
    """Passwords may contain ':' (Basic splits at the first one); usernames are case-sensitive and may
    be non-ASCII (sent as UTF-8, as requests does)."""
    name = uid("Colon")
    admin.auth.create_user(name, "pa:ss:word-1234")
    me = Actor(auth_server, Creds(name, "pa:ss:word-1234"))
    assert me.auth.get_user(name).username == name
    unauthenticated(Actor(auth_server, Creds(name.lower(), "pa:ss:word-1234")).registry.search_registered_models)
    unauthenticated(Actor(auth_server, Creds(name, "pa")).registry.search_registered_models)
    uname = uid("zoë")
    admin.auth.create_user(uname, "pässwörd-1234")
    r = requests.get(auth_server.url + "/api/2.0/mlflow/users/current",
                     auth=(uname.encode(), "pässwörd-1234".encode()), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["username"] == uname


def test_deleting_a_user_drops_its_grants_and_assignments(admin, new_user):
    user = new_user("leaver")
    m = make_model(admin)
    grant(admin, user, m.name, "READ")
    role = admin.auth.create_role("default", uid("leavers"))
    admin.auth.assign_role(user.username, role.id)
    assert [a.role_id for a in admin.auth.list_role_users(role.id)] == [role.id]
    admin.auth.delete_user(user.username)
    assert admin.auth.list_role_users(role.id) == []
    # a new user of the same name starts with nothing
    admin.auth.create_user(user.username, "a-new-password-1")
    again = Actor(user.server, Creds(user.username, "a-new-password-1"))
    refused(again.registry.get_registered_model, m.name)
    assert admin.auth.list_user_roles(user.username) == []
    admin.auth.delete_role(role.id)


def test_auth_api_wire_format(admin, new_user):
    """The JSON the auth API answers, key for key (ids are the server's own)."""
    name = uid("wire")
    r = admin.http("POST", "/api/2.0/mlflow/users/create", json={"username": name, "password": "wire-password-1"})
    assert r.status_code == 200, r.text
    user_id = r.json()["user"]["id"]
    assert r.json() == {"user": {"id": user_id, "username": name, "is_admin": False}}
    r = admin.http("GET", "/api/2.0/mlflow/users/get", params={"username": name})
    assert r.json() == {"user": {"id": user_id, "username": name, "is_admin": False}}
    for method, path, body in (
        ("PATCH", "/api/2.0/mlflow/users/update-password", {"username": name, "password": "wire-password-2"}),
        ("PATCH", "/api/2.0/mlflow/users/update-admin", {"username": name, "is_admin": False}),
    ):
        r = admin.http(method, path, json=body)
        assert (r.status_code, r.json()) == (200, {}), r.text

    m = make_model(admin)
    base = "/api/3.0/mlflow/users/permissions"
    r = admin.http("POST", base + "/grant", json={"username": name, "resource_type": "registered_model",
                                                  "resource_id": m.name, "permission": "EDIT"})
    assert (r.status_code, r.json()) == (200, {}), r.text
    r = admin.http("GET", base + "/get", params={"username": name, "resource_type": "registered_model", "resource_id": m.name})
    assert (r.status_code, r.json()) == (200, {"allowed": True, "permission": "EDIT"}), r.text
    r = admin.http("POST", base + "/revoke", json={"username": name, "resource_type": "registered_model", "resource_id": m.name})
    assert (r.status_code, r.json()) == (200, {}), r.text

    roles = "/api/3.0/mlflow/roles"
    rname = uid("wire-role")
    r = admin.http("POST", roles + "/create", json={"workspace": "default", "name": rname})
    assert r.status_code == 200, r.text
    role_id = r.json()["role"]["id"]
    assert r.json() == {"role": {"id": role_id, "name": rname, "workspace": "default", "description": None, "permissions": []}}
    r = admin.http("POST", roles + "/permissions/add", json={"role_id": role_id, "resource_type": "registered_model",
                                                             "resource_pattern": m.name, "permission": "READ"})
    rp_id = r.json()["role_permission"]["id"]
    rp = {"id": rp_id, "role_id": role_id, "resource_type": "registered_model", "resource_pattern": m.name, "permission": "READ"}
    assert r.json() == {"role_permission": rp}
    r = admin.http("GET", roles + "/get", params={"role_id": str(role_id)})
    assert r.json() == {"role": {"id": role_id, "name": rname, "workspace": "default", "description": None, "permissions": [rp]}}
    r = admin.http("POST", roles + "/assign", json={"username": name, "role_id": role_id})
    assignment = r.json()["assignment"]
    assert assignment == {"id": assignment["id"], "user_id": user_id, "role_id": role_id}
    r = admin.http("GET", roles + "/users/list", params={"role_id": str(role_id)})
    assert r.json() == {"assignments": [assignment]}
    # the user's roles: its per-user grants live in a synthetic role "__user_<id>__" (empty after the revoke)
    r = admin.http("GET", "/api/3.0/mlflow/users/roles/list", params={"username": name})
    synthetic = [x for x in r.json()["roles"] if x["name"] == f"__user_{user_id}__"]
    assert len(synthetic) == 1, r.text
    assert r.json() == {"roles": [
        {"id": synthetic[0]["id"], "name": f"__user_{user_id}__", "workspace": "default", "description": None, "permissions": []},
        {"id": role_id, "name": rname, "workspace": "default", "description": None, "permissions": [rp]},
    ]}
    r = admin.http("GET", "/api/3.0/mlflow/users/permissions/list", params={"username": name})
    assert r.json() == {"is_admin": False, "permissions": [
        {"role_id": role_id, "role_name": rname, "workspace": "default", "resource_type": "registered_model",
         "resource_pattern": m.name, "permission": "READ"}]}

    # errors: MLflow's JSON error bodies, code and message
    def error(r, status, code, message):
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert (body["error_code"], body["message"]) == (code, message)

    error(admin.http("POST", roles + "/assign", json={"username": name, "role_id": role_id}), 400,
          "RESOURCE_ALREADY_EXISTS", f"User role assignment (user_id={user_id}, role_id={role_id}) already exists")
    admin.http("DELETE", roles + "/unassign", json={"username": name, "role_id": role_id})
    error(admin.http("DELETE", roles + "/unassign", json={"username": name, "role_id": role_id}), 404,
          "RESOURCE_DOES_NOT_EXIST", f"User role assignment (user_id={user_id}, role_id={role_id}) not found")
    r = admin.http("DELETE", roles + "/delete", json={"role_id": role_id})
    assert (r.status_code, r.json()) == (200, {}), r.text
    error(admin.http("DELETE", roles + "/delete", json={"role_id": role_id}), 404,
          "RESOURCE_DOES_NOT_EXIST", f"Role with id={role_id} not found")
    error(admin.http("GET", "/api/2.0/mlflow/users/get", params={"username": name + "-ghost"}), 404,
          "RESOURCE_DOES_NOT_EXIST", f"User with username={name}-ghost not found")
    error(admin.http("PATCH", "/api/2.0/mlflow/users/update-password", json={"username": name, "password": "short"}), 400,
          "INVALID_PARAMETER_VALUE", "Password must be at least 12 characters.")
    r = admin.http("DELETE", "/api/2.0/mlflow/users/delete", json={"username": name})
    assert (r.status_code, r.json()) == (200, {}), r.text
    # the same routes under /ajax-api
    r = admin.http("GET", "/ajax-api/2.0/mlflow/users/current")
    assert r.status_code == 200 and r.json()["user"]["username"] == admin.username, r.text
    r = admin.http("GET", "/ajax-api/3.0/mlflow/roles/list", params={"workspace": "default"})
    assert r.status_code == 200 and "roles" in r.json(), r.text


# ---------------------------------------------------------------------------------------------
# Deliberate differences (issue 22): checked on our server only, with MLflow's behaviour as the reason
# ---------------------------------------------------------------------------------------------


def only_ours(auth_server, why_not_mlflow: str) -> None:
    if auth_server.kind != "ours":
        pytest.skip(f"ours only: MLflow 3.17.2 {why_not_mlflow}")


def test_duplicate_errors_do_not_echo_sql_or_hashes(auth_server, admin):
    only_ours(auth_server, "appends the database error to duplicate user/role/role-permission messages: "
                           "SQL text, parameters and the new user's scrypt password hash")
    name = uid("dup")
    admin.auth.create_user(name, "dup-password-123")
    r = admin.http("POST", "/api/2.0/mlflow/users/create", json={"username": name, "password": "dup-password-456"})
    assert r.status_code == 400
    assert r.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert r.json()["message"] == f"User (username={name}) already exists."
    assert "scrypt" not in r.text and "SQL" not in r.text
    role = admin.auth.create_role("default", uid("dup-role"))
    r = admin.http("POST", "/api/3.0/mlflow/roles/create", json={"workspace": "default", "name": role.name})
    assert (r.status_code, r.json()["message"]) == (400, f"Role (name={role.name}, workspace=default) already exists.")
    admin.auth.add_role_permission(role.id, "registered_model", "x", "READ")
    r = admin.http("POST", "/api/3.0/mlflow/roles/permissions/add",
                   json={"role_id": role.id, "resource_type": "registered_model", "resource_pattern": "x", "permission": "EDIT"})
    assert (r.status_code, r.json()["message"]) == (
        400, f"Role permission (role_id={role.id}, resource_type=registered_model, resource_pattern=x) already exists.")
    assert "SQL" not in r.text
    admin.auth.delete_role(role.id)


def test_bearer_header_with_unknown_token_is_401(auth_server):
    only_ours(auth_server, "answers an Authorization: Bearer header with 500 Internal Server Error (HTML) "
                           "instead of a 401 challenge")
    r = requests.get(auth_server.url + "/api/2.0/mlflow/users/current", headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert r.status_code == 401
    assert r.headers.get("WWW-Authenticate") == 'Basic realm="mlflow"'
