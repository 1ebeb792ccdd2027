"""The official client's webhook methods against our server: create, get, list (paginated), update,
test (delivered to a real local receiver that verifies the HMAC signature), delete, and a registry event
delivered by the durable worker with MLflow's payload and headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import pytest

import harness
from receiver import WebhookReceiver
from util import assert_mlflow_error

pytestmark = pytest.mark.skipif(
    os.environ.get("TEST_AGAINST_MLFLOW") == "1" or bool(os.environ.get("TEST_SERVER_URL")),
    reason="needs our server started with private webhook targets allowed",
)

SECRET = "s3cr3t-for-tests"


def verify(headers: dict, body: bytes) -> None:
    h = {k.lower(): v for k, v in headers.items()}
    delivery_id, ts, sig = h["x-mlflow-delivery-id"], h["x-mlflow-timestamp"], h["x-mlflow-signature"]
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{delivery_id}.{ts}.{body.decode()}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sig == f"v1,{expected}"
    assert abs(int(ts) - time.time()) < 300


@pytest.fixture(scope="module")
def hooks_server():
    db = harness.create_database("pyhooks") if os.environ.get("TEST_DATABASE_URL") else None
    proc = harness.start_ours(
        db, env={"MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https", "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}
    )
    try:
        yield proc.url
    finally:
        proc.stop()
        if db:
            harness.drop_database(db)


@pytest.fixture()
def hclient(hooks_server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=hooks_server, registry_uri=hooks_server)


@pytest.fixture()
def receiver():
    r = WebhookReceiver()
    r.url = r.base + "/hook"
    yield r
    r.close()


def test_webhook_lifecycle_with_the_official_client(hclient, receiver, name):
    from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookStatus

    hook = hclient.create_webhook(
        name="py-hook",
        url=receiver.url,
        events=["model_version.created", "model_version_alias.created"],
        description="from python",
        secret=SECRET,
    )
    assert hook.webhook_id and hook.name == "py-hook" and hook.url == receiver.url
    assert hook.status == WebhookStatus.ACTIVE
    assert {(e.entity, e.action) for e in hook.events} == {
        (WebhookEntity.MODEL_VERSION, WebhookAction.CREATED),
        (WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED),
    }
    assert not hasattr(hook, "secret") or not getattr(hook, "secret", None)

    got = hclient.get_webhook(hook.webhook_id)
    assert got.webhook_id == hook.webhook_id and got.description == "from python"

    # test_webhook: MLflow's example payload, delivered synchronously and signed
    result = hclient.test_webhook(hook.webhook_id)
    assert result.success and result.response_status == 200 and result.response_body == "ok"
    _, headers, body = receiver.next()
    verify(headers, body)
    assert json.loads(body)["entity"] == "model_version" and json.loads(body)["action"] == "created"

    # a real registry change is delivered by the durable worker with MLflow's payload
    hclient.create_registered_model(name)
    mv = hclient.create_model_version(name, "s3://bucket/model", run_id="r1", tags={"k": "v"})
    _, headers, body = receiver.next()
    verify(headers, body)
    payload = json.loads(body)
    assert payload["entity"] == "model_version" and payload["action"] == "created"
    assert payload["data"] == {
        "name": name, "version": mv.version, "source": "s3://bucket/model", "run_id": "r1",
        "tags": {"k": "v"}, "description": None,
    }
    assert payload["timestamp"].endswith("+00:00")

    updated = hclient.update_webhook(hook.webhook_id, description="changed", status="DISABLED")
    assert updated.description == "changed" and updated.status == WebhookStatus.DISABLED

    hclient.delete_webhook(hook.webhook_id)
    with pytest.raises(Exception) as exc:
        hclient.get_webhook(hook.webhook_id)
    assert_mlflow_error(exc.value, "RESOURCE_DOES_NOT_EXIST", f"Webhook with ID {hook.webhook_id} not found")


def test_list_webhooks_paginates(hclient, receiver):
    ids = {
        hclient.create_webhook(name=f"list-{i}", url=receiver.url, events=["registered_model.created"]).webhook_id
        for i in range(5)
    }
    seen, token = [], None
    while True:
        page = hclient.list_webhooks(max_results=2, page_token=token)
        assert len(page) <= 2
        seen.extend(w.webhook_id for w in page)
        token = page.token
        if not token:
            break
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))


def test_webhook_validation_errors(hclient, receiver):
    with pytest.raises(Exception) as exc:
        hclient.create_webhook(name="bad name!", url=receiver.url, events=["model_version.created"])
    assert_mlflow_error(exc.value, "INVALID_PARAMETER_VALUE")
    with pytest.raises(Exception) as exc:
        hclient.create_webhook(name="ftp-hook", url="ftp://example.com/x", events=["model_version.created"])
    assert_mlflow_error(exc.value, "INVALID_PARAMETER_VALUE")
