"""Model versions through the official MlflowClient: create, get, update, delete, tags, download URI, copy."""

from __future__ import annotations

import pytest
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException, RestException

from util import assert_mlflow_error, make_version, run_id


def test_create_and_get(client, name):
    rm = client.create_registered_model(name)
    rid = run_id()
    mv = client.create_model_version(
        name, "s3://bucket/path/model", run_id=rid, tags={"framework": "sklearn", "empty": ""},
        run_link="http://ci.example/run/1", description="v1 desc",
    )
    assert isinstance(mv, ModelVersion)
    assert (mv.name, mv.version) == (name, "1")
    assert mv.source == "s3://bucket/path/model"
    assert mv.run_id == rid
    assert mv.run_link == "http://ci.example/run/1"
    assert mv.description == "v1 desc"
    assert mv.current_stage == "None"
    assert mv.status == "READY"
    assert mv.tags == {"framework": "sklearn", "empty": ""}
    assert mv.aliases == []
    assert mv.last_updated_timestamp == mv.creation_timestamp
    assert mv.creation_timestamp >= rm.creation_timestamp

    got = client.get_model_version(name, "1")
    for attr in ("name", "version", "source", "run_id", "run_link", "description", "current_stage", "status",
                 "tags", "aliases", "creation_timestamp", "last_updated_timestamp", "status_message", "user_id"):
        assert getattr(got, attr) == getattr(mv, attr), attr
    assert client.get_model_version(name, 1).version == "1"  # int versions work too
    # creating a version updates the registered model's timestamp
    assert client.get_registered_model(name).last_updated_timestamp == mv.creation_timestamp


def test_create_minimal_defaults(client, name):
    client.create_registered_model(name)
    mv = client.create_model_version(name, "s3://bucket/m")
    # MLflow stores the proto defaults: "" for run_id, run_link and description
    assert mv.run_id == ""
    assert mv.run_link == ""
    assert mv.description == ""
    got = client.get_model_version(name, "1")
    assert (got.run_id, got.run_link, got.description) == ("", "", "")


def test_versions_count_up_and_skip_deleted(client, name):
    client.create_registered_model(name)
    assert [make_version(client, name).version for _ in range(3)] == ["1", "2", "3"]
    client.delete_model_version(name, "3")
    assert make_version(client, name).version == "4"  # soft-deleted numbers are never reused


def test_create_errors(client, name):
    with pytest.raises(RestException) as ei:
        client.create_model_version(name, "s3://b/m")
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")
    client.create_registered_model(name)
    with pytest.raises(RestException) as ei:
        client.create_model_version(name, "relative/path/model")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid model version source: 'relative/path/model'")
    with pytest.raises(RestException) as ei:
        client.create_model_version(name, "s3://bucket/models/../../secrets")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid model version source")
    with pytest.raises(MlflowException) as ei:
        client.create_model_version(name, "s3://b/m", tags={"mlflow.prompt.is_prompt": "true"})
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Prompts cannot be registered as models.")
    with pytest.raises(RestException) as ei:
        client.create_model_version(name, "s3://b/m", tags={"bad key?": "v"})
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "for parameter 'key' supplied")


def test_get_errors(client, name):
    client.create_registered_model(name)
    make_version(client, name)
    with pytest.raises(RestException) as ei:
        client.get_model_version(name, "2")
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=2) not found")
    with pytest.raises(RestException) as ei:
        client.get_model_version(name, "one")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Parameter 'version' must be an integer, got 'one'")
    with pytest.raises(RestException) as ei:
        client.get_model_version(name + "-missing", "1")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_update_description_keeps_model_timestamp(client, name):
    client.create_registered_model(name)
    mv = make_version(client, name, description="before")
    rm_before = client.get_registered_model(name)
    updated = client.update_model_version(name, "1", description="after")
    assert updated.description == "after"
    assert updated.version == "1"
    assert updated.last_updated_timestamp >= mv.last_updated_timestamp
    assert client.get_model_version(name, "1").description == "after"
    assert client.get_registered_model(name).last_updated_timestamp == rm_before.last_updated_timestamp
    with pytest.raises(MlflowException) as ei:
        client.update_model_version(name, "9", description="x")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_is_soft_and_final(client, name):
    client.create_registered_model(name)
    make_version(client, name, tags={"kept": "yes"})
    make_version(client, name)
    client.set_registered_model_alias(name, "a1", "1")
    client.delete_model_version(name, "1")
    with pytest.raises(RestException) as ei:
        client.get_model_version(name, "1")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    for call in (
        lambda: client.update_model_version(name, "1", "d"),
        lambda: client.transition_model_version_stage(name, "1", "Staging"),
        lambda: client.set_model_version_tag(name, "1", "k", "v"),
        lambda: client.set_registered_model_alias(name, "a2", "1"),
        lambda: client.get_model_version_download_uri(name, "1"),
        lambda: client.delete_model_version(name, "1"),
    ):
        with pytest.raises(MlflowException) as ei:
            call()
        assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    rm = client.get_registered_model(name)
    assert rm.aliases == {}  # aliases of a deleted version go with it
    assert [mv.version for mv in rm.latest_versions] == ["2"]
    assert [mv.version for mv in client.search_model_versions(f"name = '{name}'")] == ["2"]


def test_model_version_tags(client, name):
    client.create_registered_model(name)
    mv = make_version(client, name)
    client.set_model_version_tag(name, "1", "accuracy", "0.93")
    client.set_model_version_tag(name, "1", "validated", True)  # stringified by the client
    client.set_model_version_tag(name, "1", "empty", "")
    got = client.get_model_version(name, "1")
    assert got.tags == {"accuracy": "0.93", "validated": "True", "empty": ""}
    assert got.last_updated_timestamp == mv.last_updated_timestamp  # tags do not touch timestamps
    client.set_model_version_tag(name, "1", "accuracy", "0.95")
    client.delete_model_version_tag(name, "1", "validated")
    client.delete_model_version_tag(name, "1", "never-set")  # silent no-op
    assert client.get_model_version(name, "1").tags == {"accuracy": "0.95", "empty": ""}
    # the fluent helper takes a stage-free version
    import mlflow

    mlflow.set_model_version_tag(name, "1", "fluent", "yes")
    assert client.get_model_version(name, "1").tags["fluent"] == "yes"


def test_model_version_tag_errors(client, name):
    client.create_registered_model(name)
    make_version(client, name)
    with pytest.raises(MlflowException) as ei:
        client.set_model_version_tag(name, "1", "../escape", "v")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as ei:
        client.set_model_version_tag(name, "7", "k", "v")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        client.delete_model_version_tag(name, "7", "k")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        client.set_model_version_tag(name, "1", "k", "x" * 100_001)
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "'value' exceeds the maximum length")


def test_download_uri_is_the_source(client, name):
    client.create_registered_model(name)
    src = "s3://bucket/some/path/model"
    client.create_model_version(name, src)
    assert client.get_model_version_download_uri(name, "1") == src
    client.create_model_version(name, "gs://other-bucket/models/abc/artifacts")
    assert client.get_model_version_download_uri(name, "2") == "gs://other-bucket/models/abc/artifacts"
    with pytest.raises(MlflowException) as ei:
        client.get_model_version_download_uri(name, "3")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_copy_model_version(client, name):
    client.create_registered_model(name)
    rid = run_id()
    src = client.create_model_version(name, "s3://bucket/orig/model", run_id=rid, tags={"t": "1"},
                                      description="original")
    client.set_registered_model_alias(name, "golden", src.version)
    dst = name + "-copy"
    copied = client.copy_model_version(f"models:/{name}@golden", dst)  # creates the destination model
    assert copied.name == dst
    assert copied.version == "1"
    assert copied.source == f"models:/{name}/1"
    assert copied.run_id == rid
    assert copied.tags == {"t": "1"}
    assert copied.description == "original"
    # the copy downloads from where the original does
    assert client.get_model_version_download_uri(dst, "1") == "s3://bucket/orig/model"
    again = client.copy_model_version(f"models:/{name}/1", dst)  # destination exists: next version
    assert again.version == "2"
    assert client.get_model_version_download_uri(dst, "2") == "s3://bucket/orig/model"
    with pytest.raises(MlflowException):
        client.copy_model_version(f"models:/{name}/9", dst)


def test_get_model_version_stages(client, name):
    client.create_registered_model(name)
    make_version(client, name)
    assert client.get_model_version_stages(name, "1") == ["None", "Staging", "Production", "Archived"]


def test_fluent_register_model(client, name):
    import mlflow

    mv1 = mlflow.register_model("s3://bucket/fluent/1", name, tags={"via": "fluent"})  # creates the model too
    assert (mv1.name, mv1.version, mv1.source) == (name, "1", "s3://bucket/fluent/1")
    assert mv1.tags == {"via": "fluent"}
    mv2 = mlflow.register_model("s3://bucket/fluent/2", name)  # the model exists: just a new version
    assert mv2.version == "2"
    assert [m.name for m in mlflow.search_registered_models(filter_string=f"name = '{name}'")] == [name]
    assert client.get_registered_model(name).latest_versions[0].version == "2"
