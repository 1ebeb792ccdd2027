"""The prompt registry (MLflow 3 OSS), built by the client on top of the registry endpoints."""

from __future__ import annotations

import uuid

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from util import assert_mlflow_error, make_version


@pytest.fixture()
def pname():
    return f"prompt_{uuid.uuid4().hex[:10]}"


def test_register_and_load_versions(pname):
    p1 = mlflow.genai.register_prompt(pname, "Hello {{name}}!", commit_message="first", tags={"lang": "en"})
    assert (p1.name, p1.version) == (pname, 1)
    assert p1.template == "Hello {{name}}!"
    assert p1.commit_message == "first"
    p2 = mlflow.genai.register_prompt(pname, "Hi {{name}}, welcome to {{place}}.", commit_message="second")
    assert p2.version == 2
    assert p2.variables == {"name", "place"}

    assert mlflow.genai.load_prompt(f"prompts:/{pname}/1").template == "Hello {{name}}!"
    assert mlflow.genai.load_prompt(pname, version=2).template == "Hi {{name}}, welcome to {{place}}."
    latest = mlflow.genai.load_prompt(f"prompts:/{pname}@latest")
    assert latest.version == 2
    assert latest.format(name="Ada", place="Oslo") == "Hi Ada, welcome to Oslo."
    assert mlflow.genai.load_prompt(pname, version=1).tags.get("lang") == "en"


def test_chat_prompt_and_response_format(pname):
    messages = [{"role": "system", "content": "You are {{style}}."}, {"role": "user", "content": "{{q}}"}]
    pv = mlflow.genai.register_prompt(pname, messages, response_format={"type": "object"})
    loaded = mlflow.genai.load_prompt(f"prompts:/{pname}/{pv.version}")
    assert loaded.template == messages
    assert loaded.response_format == {"type": "object"}
    assert loaded.format(style="terse", q="why?") == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "why?"},
    ]


def test_prompt_aliases(pname):
    mlflow.genai.register_prompt(pname, "v1 {{x}}")
    mlflow.genai.register_prompt(pname, "v2 {{x}}")
    mlflow.genai.set_prompt_alias(pname, alias="production", version=1)
    assert mlflow.genai.load_prompt(f"prompts:/{pname}@production").template == "v1 {{x}}"
    mlflow.genai.set_prompt_alias(pname, alias="production", version=2)
    assert mlflow.genai.load_prompt(f"prompts:/{pname}@production").version == 2
    assert mlflow.genai.load_prompt(f"prompts:/{pname}@production").aliases == ["production"]
    mlflow.genai.delete_prompt_alias(pname, "production")
    with pytest.raises(MlflowException) as ei:
        mlflow.genai.load_prompt(f"prompts:/{pname}@production")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    assert mlflow.genai.load_prompt(f"prompts:/{pname}@production", allow_missing=True) is None


def test_search_prompts(pname, client):
    other = pname + "_other"
    mlflow.genai.register_prompt(pname, "a {{x}}", tags={"team": "search"})
    mlflow.genai.register_prompt(other, "b {{x}}")
    found = mlflow.genai.search_prompts(f"name LIKE '{pname}%'")
    assert sorted(p.name for p in found) == sorted([pname, other])
    assert [p.name for p in mlflow.genai.search_prompts(f"name = '{pname}'")] == [pname]
    assert mlflow.genai.search_prompts(f"name = '{pname}'")[0].tags.get("team") == "search"
    paged = client.search_prompts(f"name LIKE '{pname}%'", max_results=1)
    assert len(paged) == 1 and paged.token
    rest = client.search_prompts(f"name LIKE '{pname}%'", max_results=1, page_token=paged.token)
    assert {paged[0].name, rest[0].name} == {pname, other}
    # prompts are not registered models
    assert client.search_registered_models(f"name LIKE '{pname}%'") == []


def test_prompts_and_models_do_not_mix(pname, client):
    mlflow.genai.register_prompt(pname, "hello")
    # the model API refuses prompts (client side, based on the prompt tag the server returns)
    with pytest.raises(MlflowException) as ei:
        client.get_registered_model(pname)
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST")
    with pytest.raises(MlflowException) as ei:
        client.get_model_version(pname, "1")
    assert_mlflow_error(ei.value, "RESOURCE_DOES_NOT_EXIST")
    # a model name cannot become a prompt
    model = pname + "_model"
    client.create_registered_model(model)
    make_version(client, model)
    with pytest.raises(MlflowException) as ei:
        mlflow.genai.register_prompt(model, "nope")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
    # and the server refuses a model under a prompt's name
    with pytest.raises(MlflowException) as ei:
        client.create_registered_model(pname)
    assert_mlflow_error(ei.value, "RESOURCE_ALREADY_EXISTS", "already taken by a prompt")


def test_prompt_tags_and_deletion(pname, client):
    mlflow.genai.register_prompt(pname, "t {{x}}")
    mlflow.genai.set_prompt_tag(pname, "owner", "alice")
    assert mlflow.genai.get_prompt_tags(pname)["owner"] == "alice"
    mlflow.genai.delete_prompt_tag(pname, "owner")
    assert "owner" not in mlflow.genai.get_prompt_tags(pname)
    mlflow.genai.set_prompt_version_tag(pname, 1, "quality", "good")
    assert mlflow.genai.load_prompt(pname, version=1).tags["quality"] == "good"
    mlflow.genai.delete_prompt_version_tag(pname, 1, "quality")
    assert "quality" not in mlflow.genai.load_prompt(pname, version=1).tags
    client.delete_prompt_version(pname, "1")
    assert mlflow.genai.load_prompt(pname, version=1, allow_missing=True) is None
    client.delete_prompt(pname)
    assert client.get_prompt(pname) is None
