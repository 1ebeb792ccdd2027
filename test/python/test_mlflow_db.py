"""Side by side on MLflow's own database.

A fresh PostgreSQL database gets MLflow's schema from `mlflow server` itself (its alembic migrations run at
start), and MLflow registers models, versions, tags, aliases, stages, a copied version and a prompt
through the official client. Then OUR server starts on the same database, next to the still running
MLflow server, and the test shows that

  (a) starting ours does not alter MLflow's tables: the schema (columns, types, defaults, indexes,
      constraints) of every table MLflow created, the alembic revision and every registry row are the
      same before and after;
  (b) ours reads everything MLflow wrote identically: the JSON of get/search/alias/latest/download-uri
      responses of both servers is equal (timestamps included), up to the ordering of tags and aliases;
  (c) what ours writes (models, versions, tags, aliases, stage changes, deletions, renames) MLflow reads
      back identically, again compared over every read endpoint, and the rows carry MLflow's default
      workspace.

The same again on a database of `mlflow server --enable-workspaces` with ours started with
MLFLOW_ENABLE_WORKSPACES=true (issue 16): the same model names in two workspaces written by MLflow, a third
workspace created by ours, each server writing into workspaces the other created, every read compared per
workspace, and the workspaces themselves (GET /api/3.0/mlflow/workspaces) read alike.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

import harness
from util import workspace

pytestmark = pytest.mark.postgres

REGISTRY_TABLES = ("registered_models", "registered_model_tags", "registered_model_aliases", "model_versions",
                   "model_version_tags")


# ------------------------------------------------------------------------------------------------
# database snapshots
# ------------------------------------------------------------------------------------------------


def schema_snapshot(url: str) -> dict:
    """Tables → columns, indexes, constraints, triggers (public schema), plus the alembic revision."""
    conn = harness.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
                          numeric_precision, is_nullable, column_default
                     FROM information_schema.columns WHERE table_schema = 'public'
                 ORDER BY table_name, ordinal_position"""
            )
            tables: dict[str, dict] = {}
            for t, *col in cur.fetchall():
                tables.setdefault(t, {"columns": [], "indexes": [], "constraints": [], "triggers": []})
                tables[t]["columns"].append(col)
            cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2")
            for t, name, d in cur.fetchall():
                tables[t]["indexes"].append([name, d])
            cur.execute(
                """SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
                     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' ORDER BY 1, 2"""
            )
            for t, name, kind, d in cur.fetchall():
                tables[t]["constraints"].append([name, kind, d])
            cur.execute(
                """SELECT event_object_table, trigger_name, action_timing, event_manipulation, action_statement
                     FROM information_schema.triggers WHERE trigger_schema = 'public'
                      AND trigger_name NOT LIKE 'mlflow\\_ts\\_%' ORDER BY 1, 2, 4"""
            )
            for t, *trg in cur.fetchall():
                tables[t]["triggers"].append(trg)
            cur.execute("SELECT version_num FROM alembic_version")
            alembic = sorted(r[0] for r in cur.fetchall())
        return {"tables": tables, "alembic": alembic}
    finally:
        conn.close()


def registry_rows(url: str) -> dict:
    conn = harness.connect(url)
    try:
        out = {}
        with conn.cursor() as cur:
            for t in REGISTRY_TABLES:
                cur.execute(f"SELECT * FROM {t}")
                cols = [d[0] for d in cur.description]
                out[t] = sorted(json.dumps(dict(zip(cols, r)), sort_keys=True, default=str) for r in cur.fetchall())
        return out
    finally:
        conn.close()


def workspaces(url: str) -> dict:
    conn = harness.connect(url)
    try:
        with conn.cursor() as cur:
            out = {}
            for t in REGISTRY_TABLES:
                cur.execute(f"SELECT DISTINCT workspace FROM {t}")
                out[t] = sorted(r[0] for r in cur.fetchall())
            return out
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------
# reading everything through one server
# ------------------------------------------------------------------------------------------------


def _sorted(v, key=None):
    if isinstance(v, dict):
        return {k: _sorted(x, k) for k, x in v.items()}
    if isinstance(v, list):
        items = [_sorted(x, key) for x in v]
        if key in ("tags", "aliases", "latest_versions") or key == "model_versions_unordered":
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return items
    return v


def read_everything(base: str, workspace: str | None = None) -> dict:
    """Every read endpoint over every model, version and alias the registry holds (in `workspace`, sent as
    X-MLFLOW-WORKSPACE, when given) → normalised JSON."""
    api = base + "/api/2.0/mlflow"
    s = requests.Session()
    if workspace is not None:
        s.headers["X-MLFLOW-WORKSPACE"] = workspace
    out: dict[str, object] = {}

    def get(label, path, params=None, method="GET", body=None):
        r = s.request(method, api + path, params=params, json=body, timeout=30)
        try:
            payload = r.json()
        except ValueError:
            payload = r.text
        if path == "/registered-models/get-latest-versions" and isinstance(payload, dict):
            payload = {"model_versions_unordered": payload.get("model_versions", [])}
        out[label] = {"status": r.status_code, "body": _sorted(payload)}
        return payload

    models = []
    for flt in ("", "tags.`mlflow.prompt.is_prompt` = 'true'"):
        token = None
        while True:
            params = {"max_results": 3, "filter": flt}
            if token:
                params["page_token"] = token
            page = get(f"search-rm[{flt}]@{token}", "/registered-models/search", params)
            models += [m["name"] for m in page.get("registered_models", [])]
            token = page.get("next_page_token")
            if not token:
                break
    get("search-rm-desc", "/registered-models/search", {"order_by": ["last_updated_timestamp DESC"], "max_results": 1000})
    versions = []
    for flt in ("", "tags.`mlflow.prompt.is_prompt` = 'true'"):
        page = get(f"search-mv[{flt}]", "/model-versions/search",
                   {"filter": flt, "order_by": ["name ASC", "version_number ASC"], "max_results": 1000})
        versions += [(v["name"], v["version"]) for v in page.get("model_versions", [])]
    get("search-mv-default-order", "/model-versions/search", {"max_results": 1000})
    for name in sorted(set(models)):
        rm = get(f"get-rm {name}", "/registered-models/get", {"name": name})
        get(f"latest {name}", "/registered-models/get-latest-versions", method="POST", body={"name": name})
        get(f"latest-get {name}", "/registered-models/get-latest-versions", {"name": name, "stages": ["Production", "Staging"]})
        get(f"alias latest {name}", "/registered-models/alias", {"name": name, "alias": "latest"})
        for a in rm.get("registered_model", {}).get("aliases", []):
            get(f"alias {name}@{a['alias']}", "/registered-models/alias", {"name": name, "alias": a["alias"]})
        get(f"search-mv name={name}", "/model-versions/search", {"filter": f"name = '{name}'"})
    for name, version in sorted(set(versions)):
        get(f"get-mv {name}/{version}", "/model-versions/get", {"name": name, "version": version})
        get(f"uri {name}/{version}", "/model-versions/get-download-uri", {"name": name, "version": version})
    return out


def assert_same_reads(mlflow_reads: dict, ours_reads: dict, what: str) -> None:
    assert set(mlflow_reads) == set(ours_reads), f"{what}: different requests were made"
    diffs = []
    for label in mlflow_reads:
        if mlflow_reads[label] != ours_reads[label]:
            diffs.append(f"--- {label}\nMLflow: {json.dumps(mlflow_reads[label], sort_keys=True)[:1500]}\n"
                         f"ours:   {json.dumps(ours_reads[label], sort_keys=True)[:1500]}")
    assert not diffs, f"{what}: {len(diffs)} of {len(mlflow_reads)} reads differ:\n" + "\n".join(diffs[:15])


# ------------------------------------------------------------------------------------------------
# the scenario
# ------------------------------------------------------------------------------------------------


def populate_through(client, tag: str) -> None:
    """Models, versions, tags, aliases, stages, a deleted version, a rename, a copy and a prompt."""
    a, b, c = f"{tag}-churn", f"{tag}-plain", f"{tag}-renamed"
    client.create_registered_model(a, tags={"team": "red", "empty": ""}, description=f"written by {tag}")
    rid = uuid.uuid4().hex
    client.create_model_version(a, "s3://bucket/churn/1", run_id=rid, tags={"framework": "sklearn"},
                                run_link="http://ci/1", description="v1")
    client.create_model_version(a, "gs://bucket/churn/2", tags={"k": "v"})
    client.create_model_version(a, "s3://bucket/churn/3")
    client.create_model_version(a, "s3://bucket/churn/4", description="to be deleted")
    client.transition_model_version_stage(a, "1", "Production")
    client.transition_model_version_stage(a, "2", "Staging")
    client.transition_model_version_stage(a, "3", "Production", archive_existing_versions=True)
    client.set_registered_model_alias(a, "champion", "3")
    client.set_registered_model_alias(a, "challenger", "2")
    client.set_model_version_tag(a, "2", "validated", "true")
    client.set_registered_model_tag(a, "owner", "ada")
    client.delete_model_version(a, "4")
    client.update_model_version(a, "2", description="second")
    client.create_registered_model(b)
    client.create_model_version(b, f"models:/{a}/1")  # a copy: storage_location resolves to v1's source
    client.create_registered_model(c + "-old", tags={"x": "y"})
    client.create_model_version(c + "-old", "s3://bucket/renamed/1")
    client.set_registered_model_alias(c + "-old", "prod", "1")
    client.rename_registered_model(c + "-old", c)
    client.register_prompt(f"{tag}_prompt", "Hello {{name}}", commit_message="first", tags={"lang": "en"})
    client.register_prompt(f"{tag}_prompt", "Hi {{name}}")
    client.set_prompt_alias(f"{tag}_prompt", "production", 1)


def modify_through(client, mlflow_tag: str, tag: str) -> None:
    """Our server changes entities MLflow created too."""
    a = f"{mlflow_tag}-churn"
    mv = client.create_model_version(a, "s3://bucket/churn/5", tags={"by": tag})
    assert mv.version == "5"  # after MLflow's soft-deleted v4
    client.set_registered_model_alias(a, "champion", "5")
    client.delete_registered_model_alias(a, "challenger")
    client.set_model_version_tag(a, "1", "audited", tag)
    client.delete_model_version_tag(a, "2", "validated")
    client.delete_registered_model_tag(a, "empty")
    client.update_registered_model(a, description=f"updated by {tag}")
    client.transition_model_version_stage(a, "5", "Staging", archive_existing_versions=True)
    client.delete_model_version(a, "3")
    client.register_prompt(f"{mlflow_tag}_prompt", "Bonjour {{name}}")
    client.rename_registered_model(f"{mlflow_tag}-renamed", f"{mlflow_tag}-renamed-by-{tag}")


def mlflow_database(workspaces: bool):
    """A fresh database that `mlflow server` (started on it, with or without workspaces) created; yields
    (database URL, that server, the list of processes to stop at the end, which tests may extend)."""
    db = harness.create_database("mlflowdb_ws" if workspaces else "mlflowdb")
    procs = []
    try:
        procs.append(harness.start_mlflow(db, workspaces=workspaces))
        yield db, procs[0], procs
    finally:
        for p in procs:
            p.stop()
        harness.drop_database(db)


@pytest.fixture()
def side_by_side(pg_admin):
    yield from mlflow_database(workspaces=False)


def test_side_by_side_on_mlflow_database(side_by_side):
    from mlflow import MlflowClient

    db, mlflow_server, procs = side_by_side
    via_mlflow = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    populate_through(via_mlflow, "mlf")

    schema_before = schema_snapshot(db)
    rows_before = registry_rows(db)
    assert set(REGISTRY_TABLES) <= set(schema_before["tables"]), "MLflow did not create its registry tables"
    assert "workspace" in [c[0] for c in schema_before["tables"]["registered_models"]["columns"]]
    mlflow_reads = read_everything(mlflow_server.url)

    ours = harness.start_ours(db)
    procs.append(ours)

    # (a) starting ours did not alter MLflow's tables or rows
    schema_after = schema_snapshot(db)
    assert schema_after["alembic"] == schema_before["alembic"]
    for table, before in schema_before["tables"].items():
        assert schema_after["tables"].get(table) == before, f"our server altered MLflow's table {table}"
    added = sorted(set(schema_after["tables"]) - set(schema_before["tables"]))
    print(f"tables our server added next to MLflow's: {added}")
    assert registry_rows(db) == rows_before, "starting our server changed registry rows"

    # (b) ours reads everything MLflow wrote identically
    assert_same_reads(mlflow_reads, read_everything(ours.url), "reading MLflow's data")
    # and the client sees the same objects
    via_ours = MlflowClient(tracking_uri=ours.url, registry_uri=ours.url)
    assert via_ours.get_model_version_by_alias("mlf-churn", "champion").version == "3"
    assert via_ours.get_model_version_download_uri("mlf-plain", "1") == "s3://bucket/churn/1"
    assert via_ours.load_prompt("prompts:/mlf_prompt@production").template == "Hello {{name}}"

    # (c) what ours writes, MLflow reads back identically
    populate_through(via_ours, "ours")
    modify_through(via_ours, "mlf", "ours")
    assert_same_reads(read_everything(mlflow_server.url), read_everything(ours.url), "after writes by our server")
    assert via_mlflow.get_model_version_by_alias("mlf-churn", "champion").version == "5"
    assert via_mlflow.get_model_version_by_alias("ours-churn", "champion").version == "3"
    assert via_mlflow.load_prompt("prompts:/ours_prompt@production").template == "Hello {{name}}"
    assert via_mlflow.load_prompt("prompts:/mlf_prompt/3").template == "Bonjour {{name}}"
    assert workspaces(db) == {t: ["default"] for t in REGISTRY_TABLES}

    # MLflow keeps working on what ours wrote, and ours sees that too
    via_mlflow.create_model_version("ours-churn", "s3://bucket/churn/by-mlflow")
    via_mlflow.set_registered_model_alias("ours-churn", "champion", "5")
    via_mlflow.delete_registered_model("ours-plain")
    assert_same_reads(read_everything(mlflow_server.url), read_everything(ours.url), "after more writes by MLflow")

    # the schema is still MLflow's
    final = schema_snapshot(db)
    assert final["alembic"] == schema_before["alembic"]
    for table, before in schema_before["tables"].items():
        assert final["tables"].get(table) == before, f"MLflow's table {table} changed"


# ------------------------------------------------------------------------------------------------
# the same with workspaces on (issue 16)
# ------------------------------------------------------------------------------------------------


def workspace_rows(url: str) -> dict:
    """The workspaces table and every registry row, for 'nothing changed' checks."""
    rows = registry_rows(url)
    conn = harness.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM workspaces")
            cols = [d[0] for d in cur.description]
            rows["workspaces"] = sorted(json.dumps(dict(zip(cols, r)), sort_keys=True, default=str)
                                        for r in cur.fetchall())
        return rows
    finally:
        conn.close()


def read_workspaces(base: str) -> dict:
    out = {}
    r = requests.get(base + "/api/3.0/mlflow/workspaces", timeout=30)
    out["list"] = {"status": r.status_code, "body": r.json()}
    for w in r.json().get("workspaces", []):
        g = requests.get(f"{base}/api/3.0/mlflow/workspaces/{w['name']}", timeout=30)
        out[w["name"]] = {"status": g.status_code, "body": g.json()}
    return out


def assert_same_reads_per_workspace(mlflow_url: str, ours_url: str, names: list[str], what: str) -> None:
    assert read_workspaces(mlflow_url) == read_workspaces(ours_url), f"{what}: the workspaces read differently"
    for w in names:
        assert_same_reads(read_everything(mlflow_url, w), read_everything(ours_url, w), f"{what}, workspace {w}")


@pytest.fixture()
def side_by_side_workspaces(pg_admin):
    yield from mlflow_database(workspaces=True)


def test_side_by_side_on_mlflow_workspaces_database(side_by_side_workspaces):
    from mlflow import MlflowClient

    db, mlflow_server, procs = side_by_side_workspaces
    via_mlflow = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    a, b, c = "mlf-team-a", "mlf-team-b", "ours-team-c"
    via_mlflow.create_workspace(a, description="created by MLflow")
    via_mlflow.create_workspace(b, default_artifact_root="s3://bucket/team-b")
    # the same names in both workspaces, different content
    with workspace(a):
        populate_through(via_mlflow, "mlf")
    with workspace(b):
        populate_through(via_mlflow, "mlf")
        via_mlflow.create_model_version("mlf-plain", "s3://bucket/only-in-b")
        via_mlflow.set_registered_model_tag("mlf-churn", "team", "blue")
    via_mlflow.create_registered_model("mlf-in-default")

    schema_before = schema_snapshot(db)
    rows_before = workspace_rows(db)
    assert "workspaces" in schema_before["tables"], "MLflow did not create its workspaces table"
    mlflow_reads = {w: read_everything(mlflow_server.url, w) for w in ("default", a, b)}
    mlflow_workspaces = read_workspaces(mlflow_server.url)

    ours = harness.start_ours(db, env={"MLFLOW_ENABLE_WORKSPACES": "true"})
    procs.append(ours)

    # (a) starting ours did not alter MLflow's tables or rows
    schema_after = schema_snapshot(db)
    assert schema_after["alembic"] == schema_before["alembic"]
    for table, before in schema_before["tables"].items():
        assert schema_after["tables"].get(table) == before, f"our server altered MLflow's table {table}"
    assert workspace_rows(db) == rows_before, "starting our server changed registry or workspace rows"

    # (b) ours reads everything MLflow wrote identically, workspace by workspace
    assert read_workspaces(ours.url) == mlflow_workspaces
    for w in ("default", a, b):
        assert_same_reads(mlflow_reads[w], read_everything(ours.url, w), f"reading MLflow's data in {w}")
    via_ours = MlflowClient(tracking_uri=ours.url, registry_uri=ours.url)
    with workspace(a):
        assert via_ours.get_registered_model("mlf-churn").tags.get("team") == "red"
        assert via_ours.get_model_version_by_alias("mlf-churn", "champion").version == "3"
    with workspace(b):
        assert via_ours.get_registered_model("mlf-churn").tags.get("team") == "blue"
        assert via_ours.get_model_version_download_uri("mlf-plain", "2") == "s3://bucket/only-in-b"

    # (c) ours writes into MLflow's workspaces and into one of its own; MLflow reads it all back
    via_ours.create_workspace(c, description="created by ours")
    with workspace(a):
        populate_through(via_ours, "ours")
        modify_through(via_ours, "mlf", "ours")
    with workspace(c):
        populate_through(via_ours, "mlf")  # MLflow's names again, in a third workspace
    assert_same_reads_per_workspace(mlflow_server.url, ours.url, ["default", a, b, c], "after writes by our server")
    with workspace(a):
        assert via_mlflow.get_model_version_by_alias("mlf-churn", "champion").version == "5"
        assert via_mlflow.load_prompt("prompts:/ours_prompt@production").template == "Hello {{name}}"
    with workspace(b):
        assert via_mlflow.get_model_version_by_alias("mlf-churn", "champion").version == "3"  # untouched
    with workspace(c):
        assert via_mlflow.get_registered_model("mlf-churn").description == "written by mlf"
        # MLflow keeps working in the workspace ours created, and ours sees it
        via_mlflow.create_model_version("mlf-churn", "s3://bucket/churn/by-mlflow-in-c")
        via_mlflow.delete_registered_model("mlf-plain")
    with workspace(a):
        via_mlflow.delete_registered_model("ours-plain")
    # (default and b are unchanged since the last comparison)
    assert_same_reads_per_workspace(mlflow_server.url, ours.url, [a, c], "after more writes by MLflow")

    # every row sits in the workspace it was written in
    conn = harness.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT workspace, count(*) FROM registered_models WHERE name = 'mlf-churn' "
                        "GROUP BY 1 ORDER BY 1")
            assert cur.fetchall() == [(a, 1), (b, 1), (c, 1)]
            cur.execute("SELECT DISTINCT workspace FROM registered_models WHERE name LIKE 'ours%' ORDER BY 1")
            assert cur.fetchall() == [(a,)]
    finally:
        conn.close()

    # deleting a workspace through ours (CASCADE) is what MLflow sees
    r = requests.delete(f"{ours.url}/api/3.0/mlflow/workspaces/{c}", params={"mode": "CASCADE"}, timeout=30)
    assert r.status_code == 204, r.text
    r = requests.get(f"{mlflow_server.url}/api/3.0/mlflow/workspaces/{c}", timeout=30)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST", r.text
    assert read_workspaces(mlflow_server.url) == read_workspaces(ours.url)
    for table in REGISTRY_TABLES:
        assert c not in workspaces(db)[table]

    # the schema is still MLflow's
    final = schema_snapshot(db)
    assert final["alembic"] == schema_before["alembic"]
    for table, before in schema_before["tables"].items():
        assert final["tables"].get(table) == before, f"MLflow's table {table} changed"
