"""search_registered_models / search_model_versions: filters, order_by, pagination (client and fluent)."""

from __future__ import annotations

import uuid

import mlflow
import pytest
from mlflow.exceptions import MlflowException, RestException

from util import assert_mlflow_error, run_id


@pytest.fixture()
def family(client):
    """Five models `<p>-a` … `<p>-e` (ordered by creation), with tags and versions."""
    p = f"fam{uuid.uuid4().hex[:8]}"
    names = [f"{p}-{c}" for c in "abcde"]
    for i, n in enumerate(names):
        client.create_registered_model(n, tags={"team": "red" if i % 2 == 0 else "blue", "idx": str(i)})
    return p, names


def names_of(models):
    return [m.name for m in models]


def test_search_registered_models_filters(client, family):
    p, names = family
    assert names_of(client.search_registered_models(f"name = '{p}-c'")) == [f"{p}-c"]
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%'")) == names
    assert names_of(client.search_registered_models(f"name ILIKE '{p.upper()}-%'")) == names
    assert names_of(client.search_registered_models(f"name LIKE '{p.upper()}-%'")) == []  # LIKE is case-sensitive
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%' AND name != '{p}-a'")) == names[1:]
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%' AND tags.team = 'red'")) == names[0::2]
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%' AND tags.`team` != 'red'")) == names[1::2]
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%' AND tag.idx LIKE '%3'")) == [names[3]]
    assert names_of(client.search_registered_models(f"name LIKE '{p}-%' AND tags.nope = 'x'")) == []


def test_search_registered_models_order_by(client, family):
    p, names = family
    f = f"name LIKE '{p}-%'"
    assert names_of(client.search_registered_models(f, order_by=["name DESC"])) == names[::-1]
    assert names_of(client.search_registered_models(f, order_by=["name ASC"])) == names
    client.update_registered_model(names[1], description="touched last")
    by_time = names_of(client.search_registered_models(f, order_by=["last_updated_timestamp DESC"]))
    assert by_time[0] == names[1]
    assert names_of(client.search_registered_models(f, order_by=["timestamp DESC"]))[0] == names[1]


def test_search_registered_models_errors(client):
    for bad, part in [
        ("name = unquoted", "Parameter value is either not quoted or unidentified quote types used"),
        ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string"),
        ("creation_timestamp > 5", "Invalid attribute key"),
        ("foo.bar = 'x'", "Invalid entity type 'foo'"),
    ]:
        with pytest.raises(RestException) as ei:
            client.search_registered_models(bad)
        assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", part)
    with pytest.raises(RestException) as ei:
        client.search_registered_models(order_by=["creation_timestamp DESC"])
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid order by key 'creation_timestamp' specified")
    with pytest.raises(RestException) as ei:
        client.search_registered_models(max_results=1001)
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "max_results")
    with pytest.raises(RestException) as ei:
        client.search_registered_models(page_token="not-a-token")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid page token")


def test_search_registered_models_pagination(client, family):
    p, names = family
    seen, token, pages = [], None, 0
    while True:
        page = client.search_registered_models(f"name LIKE '{p}-%'", max_results=2, page_token=token)
        assert len(page) <= 2
        seen += names_of(page)
        pages += 1
        token = page.token
        if not token:
            break
    assert seen == names
    assert pages == 3
    # an exact multiple: the last full page may still carry a token, and the next one is empty
    page = client.search_registered_models(f"name LIKE '{p}-%'", max_results=5)
    assert names_of(page) == names


def test_fluent_search_registered_models_pages_through_everything(client, monkeypatch):
    p = f"many{uuid.uuid4().hex[:8]}"
    names = [f"{p}-{i:03d}" for i in range(105)]  # more than the client's page of 100
    for n in names:
        client.create_registered_model(n)
    assert names_of(mlflow.search_registered_models(filter_string=f"name LIKE '{p}-%'")) == names
    assert names_of(mlflow.search_registered_models(filter_string=f"name LIKE '{p}-%'", max_results=7)) == names[:7]
    import mlflow.tracking._model_registry.fluent as fluent

    monkeypatch.setattr(fluent, "SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT", 4)  # many small pages
    assert names_of(mlflow.search_registered_models(filter_string=f"name LIKE '{p}-%'", order_by=["name DESC"])) == names[::-1]


@pytest.fixture()
def versions(client, name):
    client.create_registered_model(name)
    rids = [run_id() for _ in range(4)]
    for i, rid in enumerate(rids):
        client.create_model_version(name, f"s3://bucket/{name}/v{i + 1}", run_id=rid,
                                    tags={"parity": "even" if (i + 1) % 2 == 0 else "odd"})
    return name, rids


def test_search_model_versions_filters(client, versions):
    name, rids = versions
    vs = lambda f, **kw: [mv.version for mv in client.search_model_versions(f, **kw)]  # noqa: E731
    # default order: last_updated_timestamp DESC, name ASC, version_number DESC
    assert vs(f"name = '{name}'") == ["4", "3", "2", "1"]
    assert vs(f"name = '{name}' AND version_number > 2") == ["4", "3"]
    assert vs(f"name = '{name}' AND version_number <= 2") == ["2", "1"]
    assert vs(f"name = '{name}' AND version_number != 3") == ["4", "2", "1"]
    assert vs(f"run_id = '{rids[1]}'") == ["2"]
    assert sorted(vs(f"run_id IN ('{rids[0]}', '{rids[2]}')")) == ["1", "3"]
    assert vs(f"name = '{name}' AND tags.parity = 'even'") == ["4", "2"]
    assert vs(f"name = '{name}' AND source_path = 's3://bucket/{name}/v3'") == ["3"]
    assert vs(f"name = '{name}' AND source_path LIKE '%/v1'") == ["1"]
    assert vs(f"name ILIKE '{name.upper()}'") == ["4", "3", "2", "1"]
    assert vs(f"name = '{name}'", order_by=["version_number ASC"]) == ["1", "2", "3", "4"]
    assert vs(f"name = '{name}'", order_by=["creation_timestamp ASC"]) == ["1", "2", "3", "4"]
    mv = client.search_model_versions(f"name = '{name}' AND version_number = 1")[0]
    assert mv.source == f"s3://bucket/{name}/v1" and mv.run_id == rids[0] and mv.tags == {"parity": "odd"}
    assert mv.status == "READY" and mv.current_stage == "None"


def test_search_model_versions_errors(client):
    for bad, part in [
        ("version_number > 'x'", "Invalid"),
        ("run_id IN ()", "expected a non-empty list of string values, but got empty list"),
        ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string"),
        ("stage = 'Production'", "Invalid attribute key"),
    ]:
        with pytest.raises(MlflowException) as ei:
            client.search_model_versions(bad)
        assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", part)
    with pytest.raises(MlflowException) as ei:
        client.search_model_versions(order_by=["stage ASC"])
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as ei:
        client.search_model_versions(max_results=0)
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "max_results")
    with pytest.raises(MlflowException) as ei:
        client.search_model_versions(max_results=200_001)
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_model_versions_pagination(client, versions):
    name, _ = versions
    seen, token = [], None
    while True:
        page = client.search_model_versions(f"name = '{name}'", max_results=3, page_token=token,
                                            order_by=["version_number ASC"])
        seen += [mv.version for mv in page]
        token = page.token
        if not token:
            break
    assert seen == ["1", "2", "3", "4"]


def test_fluent_search_model_versions_pages_through_everything(client, versions, monkeypatch):
    name, _ = versions
    import mlflow.tracking._model_registry.fluent as fluent

    assert [mv.version for mv in mlflow.search_model_versions(filter_string=f"name = '{name}'")] == ["4", "3", "2", "1"]
    monkeypatch.setattr(fluent, "SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT", 1)  # one version per page
    got = mlflow.search_model_versions(filter_string=f"name = '{name}'", order_by=["version_number ASC"])
    assert [mv.version for mv in got] == ["1", "2", "3", "4"]
    assert [mv.version for mv in mlflow.search_model_versions(filter_string=f"name = '{name}'", max_results=2)] == ["4", "3"]


def test_search_excludes_deleted_versions_and_prompts(client, versions):
    name, _ = versions
    client.delete_model_version(name, "2")
    assert [mv.version for mv in client.search_model_versions(f"name = '{name}'")] == ["4", "3", "1"]
    prompt = f"{name}-prompt".replace("-", "_")
    mlflow.genai.register_prompt(prompt, "Hello {{x}}")
    assert client.search_registered_models(f"name = '{prompt}'") == []
    assert client.search_model_versions(f"name = '{prompt}'") == []
    found = client.search_registered_models(f"name = '{prompt}' AND tags.`mlflow.prompt.is_prompt` = 'true'")
    assert names_of(found) == [prompt]
