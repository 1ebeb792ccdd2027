"""Registered models through the official MlflowClient: create, get, update, rename, delete, tags."""

from __future__ import annotations

import pytest
from mlflow.entities.model_registry import RegisteredModel
from mlflow.exceptions import MlflowException, RestException

from util import assert_mlflow_error, make_version


def test_create_and_get(client, name):
    rm = client.create_registered_model(name, tags={"team": "ml", "empty": ""}, description="first model")
    assert isinstance(rm, RegisteredModel)
    assert rm.name == name
    assert rm.description == "first model"
    assert rm.tags == {"team": "ml", "empty": ""}
    assert isinstance(rm.creation_timestamp, int) and rm.creation_timestamp > 1_600_000_000_000
    assert rm.last_updated_timestamp == rm.creation_timestamp
    assert rm.latest_versions == []
    assert rm.aliases == {}

    got = client.get_registered_model(name)
    assert got.name == name
    assert got.description == "first model"
    assert got.tags == {"team": "ml", "empty": ""}
    assert got.creation_timestamp == rm.creation_timestamp
    assert got.last_updated_timestamp == rm.last_updated_timestamp
    assert got.latest_versions == []
    assert got.aliases == {}


def test_create_without_description_reads_empty(client, name):
    rm = client.create_registered_model(name)
    assert rm.description == ""
    assert client.get_registered_model(name).description == ""
    assert rm.tags == {}


def test_create_duplicate_is_resource_already_exists(client, name):
    client.create_registered_model(name)
    with pytest.raises(RestException) as ei:
        client.create_registered_model(name)
    assert_mlflow_error(ei.value, "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")


def test_create_empty_name_is_invalid(client):
    with pytest.raises(MlflowException) as ei:
        client.create_registered_model("")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'")


def test_get_unknown_is_not_found(client, name):
    with pytest.raises(RestException) as ei:
        client.get_registered_model(name)
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")


def test_update_description(client, name):
    created = client.create_registered_model(name, description="old")
    updated = client.update_registered_model(name, description="new words")
    assert updated.name == name
    assert updated.description == "new words"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert client.get_registered_model(name).description == "new words"
    # An empty description clears it (MLflow omits it; the client reads "").
    cleared = client.update_registered_model(name, description="")
    assert cleared.description == ""
    assert client.get_registered_model(name).description == ""


def test_update_unknown_is_not_found(client, name):
    with pytest.raises(MlflowException) as ei:
        client.update_registered_model(name, description="x")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_rename_moves_versions_tags_and_aliases(client, name):
    client.create_registered_model(name, tags={"k": "v"})
    make_version(client, name)
    make_version(client, name, tags={"vt": "1"})
    client.set_registered_model_alias(name, "champion", "2")
    new = name + "-renamed"
    assert client.rename_registered_model(name, new) is None  # MlflowClient returns nothing
    assert client.get_registered_model(new).name == new
    with pytest.raises(MlflowException) as ei:
        client.get_registered_model(name)
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    rm = client.get_registered_model(new)
    assert rm.tags == {"k": "v"}
    assert rm.aliases == {"champion": "2"}
    assert [mv.version for mv in rm.latest_versions] == ["2"]
    mv2 = client.get_model_version(new, "2")
    assert mv2.name == new
    assert mv2.tags == {"vt": "1"}
    assert mv2.aliases == ["champion"]
    assert client.get_model_version_by_alias(new, "champion").version == "2"
    assert sorted(mv.version for mv in client.search_model_versions(f"name = '{new}'")) == ["1", "2"]
    # versions keep counting under the new name
    assert make_version(client, new).version == "3"


def test_rename_errors(client, name):
    client.create_registered_model(name)
    client.create_registered_model(name + "-other")
    with pytest.raises(RestException) as ei:
        client.rename_registered_model(name, name + "-other")
    assert ei.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert f"Registered Model (name={name}-other) already exists" in ei.value.message
    with pytest.raises(MlflowException) as ei:
        client.rename_registered_model(name + "-missing", name + "-x")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:  # refused by the client itself
        client.rename_registered_model(name, "")
    assert "The name must not be an empty string." in ei.value.message
    with pytest.raises(RestException) as ei:
        client.rename_registered_model(name, "a/b")
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid model name 'a/b'. Names cannot contain '/' or ':'.")


def test_delete_cascades_and_name_is_reusable(client, name):
    client.create_registered_model(name, tags={"a": "b"})
    make_version(client, name)
    make_version(client, name)
    client.set_registered_model_alias(name, "prod", "1")
    client.delete_registered_model(name)
    with pytest.raises(MlflowException) as ei:
        client.get_registered_model(name)
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        client.get_model_version(name, "1")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.search_model_versions(f"name = '{name}'") == []
    # a model re-created under the same name starts again at version 1, with no tags or aliases
    client.create_registered_model(name)
    assert make_version(client, name).version == "1"
    rm = client.get_registered_model(name)
    assert rm.tags == {} and rm.aliases == {}


def test_delete_unknown_is_not_found(client, name):
    with pytest.raises(MlflowException) as ei:
        client.delete_registered_model(name)
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_registered_model_tags(client, name):
    created = client.create_registered_model(name)
    client.set_registered_model_tag(name, "team", "ml")
    client.set_registered_model_tag(name, "stage.note", "with dots/and slashes: ok")
    client.set_registered_model_tag(name, "n", 7)  # the client stringifies values
    rm = client.get_registered_model(name)
    assert rm.tags == {"team": "ml", "stage.note": "with dots/and slashes: ok", "n": "7"}
    # setting a tag does not touch the model's timestamp
    assert rm.last_updated_timestamp == created.last_updated_timestamp
    client.set_registered_model_tag(name, "team", "platform")  # upsert
    client.delete_registered_model_tag(name, "n")
    client.delete_registered_model_tag(name, "never-set")  # silent no-op
    assert client.get_registered_model(name).tags == {"team": "platform", "stage.note": "with dots/and slashes: ok"}


def test_registered_model_tag_errors(client, name):
    client.create_registered_model(name)
    with pytest.raises(MlflowException) as ei:
        client.set_registered_model_tag(name, "bad key!", "v")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid value \"bad key!\" for parameter 'key' supplied" in ei.value.message
    with pytest.raises(MlflowException) as ei:
        client.set_registered_model_tag(name, "k" * 251, "v")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "'key' exceeds the maximum length of 250 characters" in ei.value.message
    with pytest.raises(MlflowException) as ei:
        client.set_registered_model_tag(name + "-missing", "k", "v")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        client.delete_registered_model_tag(name + "-missing", "k")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_latest_versions_on_registered_model(client, name):
    client.create_registered_model(name)
    for _ in range(4):
        make_version(client, name)
    client.transition_model_version_stage(name, "2", "Staging")
    client.transition_model_version_stage(name, "3", "Production")
    rm = client.get_registered_model(name)
    by_stage = {mv.current_stage: mv.version for mv in rm.latest_versions}
    assert by_stage == {"None": "4", "Staging": "2", "Production": "3"}
    # each latest version equals the version itself, field for field (aliases are not filled in here)
    for mv in rm.latest_versions:
        full = client.get_model_version(name, mv.version)
        assert mv.source == full.source and mv.run_id == full.run_id and mv.status == full.status
        assert mv.tags == full.tags and mv.description == full.description
        assert mv.creation_timestamp == full.creation_timestamp
        assert mv.last_updated_timestamp == full.last_updated_timestamp
