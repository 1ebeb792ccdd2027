"""Aliases, stages and get_latest_versions through the official MlflowClient."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException, RestException

from util import assert_mlflow_error, make_version


@pytest.fixture()
def three_versions(client, name):
    client.create_registered_model(name)
    for _ in range(3):
        make_version(client, name)
    return name


def test_set_get_move_delete_alias(client, three_versions):
    name = three_versions
    before = client.get_model_version(name, "1")
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", 2)  # ints are accepted by the client
    client.set_registered_model_alias(name, "Ünïcode_ok-1", "2")
    rm = client.get_registered_model(name)
    assert rm.aliases == {"champion": "1", "challenger": "2", "Ünïcode_ok-1": "2"}
    mv = client.get_model_version_by_alias(name, "champion")
    assert (mv.name, mv.version, mv.aliases) == (name, "1", ["champion"])
    assert mv.last_updated_timestamp == before.last_updated_timestamp  # aliases do not touch timestamps
    assert sorted(client.get_model_version(name, "2").aliases) == sorted(["challenger", "Ünïcode_ok-1"])
    # an alias points at one version: setting it again moves it
    client.set_registered_model_alias(name, "champion", "3")
    assert client.get_model_version_by_alias(name, "champion").version == "3"
    assert client.get_model_version(name, "1").aliases == []
    client.delete_registered_model_alias(name, "champion")
    client.delete_registered_model_alias(name, "never-set")  # silent no-op
    assert client.get_registered_model(name).aliases == {"challenger": "2", "Ünïcode_ok-1": "2"}
    with pytest.raises(RestException) as ei:
        client.get_model_version_by_alias(name, "champion")
    # MLflow answers an unknown alias with 400 INVALID_PARAMETER_VALUE, not 404
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Registered model alias champion not found.")


def test_latest_alias_is_special(client, three_versions):
    name = three_versions
    assert client.get_model_version_by_alias(name, "latest").version == "3"
    assert client.get_model_version_by_alias(name, "LATEST").version == "3"


def test_reserved_and_invalid_aliases(client, three_versions):
    name = three_versions
    cases = {
        "latest": "'latest' alias name (case insensitive) is reserved.",
        "Latest": "'latest' alias name (case insensitive) is reserved.",
        "v1": "Version alias name 'v1' is reserved.",
        "V12": "Version alias name 'V12' is reserved.",
        "has space": "Invalid alias name: 'has space'",
        "a" * 256: "'Registered model alias name' exceeds the maximum length of 255 characters",
    }
    for alias, message in cases.items():  # the client checks these itself; the replay covers the server
        with pytest.raises(MlflowException) as ei:
            client.set_registered_model_alias(name, alias, "1")
        assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", message)
    with pytest.raises(MlflowException) as ei:
        client.set_registered_model_alias(name, "ok", "99")
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=99) not found")
    with pytest.raises(MlflowException) as ei:
        client.set_registered_model_alias(name + "-missing", "ok", "1")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:
        client.delete_registered_model_alias(name + "-missing", "ok")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as ei:  # the client's prompt check (GET registered-models/get) 404s first
        client.get_model_version_by_alias(name + "-missing", "ok")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_transition_stages(client, three_versions):
    name = three_versions
    rm_before = client.get_registered_model(name)
    mv = client.transition_model_version_stage(name, "1", "staging")  # case-insensitive, canonicalised
    assert mv.current_stage == "Staging"
    assert mv.version == "1"
    assert client.get_model_version(name, "1").current_stage == "Staging"
    assert client.get_registered_model(name).last_updated_timestamp >= rm_before.last_updated_timestamp
    client.transition_model_version_stage(name, "2", "Production")
    # archive_existing_versions moves the other versions of the target stage to Archived
    mv3 = client.transition_model_version_stage(name, "3", "PRODUCTION", archive_existing_versions=True)
    assert mv3.current_stage == "Production"
    assert client.get_model_version(name, "2").current_stage == "Archived"
    assert client.get_model_version(name, "1").current_stage == "Staging"
    client.transition_model_version_stage(name, "1", "None")
    assert client.get_model_version(name, "1").current_stage == "None"
    client.transition_model_version_stage(name, "1", "Archived")
    assert client.get_model_version(name, "1").current_stage == "Archived"


def test_transition_errors(client, three_versions):
    name = three_versions
    with pytest.raises(RestException) as ei:
        client.transition_model_version_stage(name, "1", "Deployed")
    assert_mlflow_error(
        ei.value, "INVALID_PARAMETER_VALUE",
        "Invalid Model Version stage: Deployed. Value must be one of None, Staging, Production, Archived.",
    )
    with pytest.raises(MlflowException) as ei:
        client.transition_model_version_stage(name, "1", "  ")  # refused by the client itself
    assert "The stage must not be an empty string." in ei.value.message
    with pytest.raises(MlflowException) as ei:
        client.transition_model_version_stage(name, "8", "Staging")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_latest_versions(client, name):
    client.create_registered_model(name)
    for _ in range(5):
        make_version(client, name)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Production")
    client.transition_model_version_stage(name, "3", "Staging")
    client.set_registered_model_alias(name, "best", "2")
    # all stages when none are given: the highest version per stage
    latest = {mv.current_stage: mv for mv in client.get_latest_versions(name)}
    assert {s: mv.version for s, mv in latest.items()} == {"Production": "2", "Staging": "3", "None": "5"}
    assert latest["Production"].aliases == ["best"]  # filled in by get-latest-versions
    assert [mv.version for mv in client.get_latest_versions(name, stages=["Production"])] == ["2"]
    assert [mv.version for mv in client.get_latest_versions(name, stages=["staging"])] == ["3"]
    assert sorted(mv.version for mv in client.get_latest_versions(name, stages=["Staging", "None"])) == ["3", "5"]
    assert client.get_latest_versions(name, stages=["Archived"]) == []
    with pytest.raises(RestException) as ei:
        client.get_latest_versions(name, stages=["Shipped"])
    assert_mlflow_error(ei.value, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Shipped.")
    with pytest.raises(MlflowException) as ei:
        client.get_latest_versions(name + "-missing")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_latest_versions_of_model_without_versions(client, name):
    client.create_registered_model(name)
    assert client.get_latest_versions(name) == []
    with pytest.raises(MlflowException) as ei:
        client.get_model_version_by_alias(name, "latest")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
