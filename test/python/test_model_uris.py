"""models:/ URIs resolved through our server: models:/name/1, models:/name@alias, models:/name/latest,
models:/name/<Stage>.

Resolution alone (no artifact bytes) is shown with copy_model_version, whose copy records the resolved
version as its source. Downloads (`artifacts` marker) need our server's /api/2.0/mlflow-artifacts
endpoints: files are uploaded with the client's own mlflow-artifacts repository, registered with an
`mlflow-artifacts:/…` source, and fetched back with mlflow.artifacts.download_artifacts and
mlflow.pyfunc.load_model, the tracking URI pointing at our server.
"""

from __future__ import annotations

import os
import uuid

import mlflow
import pytest
from mlflow.exceptions import MlflowException



@pytest.fixture()
def staged(client, name):
    """v1 Production, v2 Staging, v3 None (the latest), alias champion → v2."""
    client.create_registered_model(name)
    for i in range(3):
        client.create_model_version(name, f"s3://bucket/{name}/v{i + 1}")
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "Staging")
    client.set_registered_model_alias(name, "champion", "2")
    return name


@pytest.mark.parametrize(
    "suffix, version",
    [("/1", "1"), ("/3", "3"), ("@champion", "2"), ("/latest", "3"), ("/Production", "1"), ("/Staging", "2"),
     ("/production", "1")],
)
def test_models_uri_resolution(client, staged, suffix, version):
    dst = f"{staged}-dst-{uuid.uuid4().hex[:4]}"
    copy = client.copy_model_version(f"models:/{staged}{suffix}", dst)
    assert copy.source == f"models:/{staged}/{version}"
    assert client.get_model_version_download_uri(dst, copy.version) == f"s3://bucket/{staged}/v{version}"


def test_models_uri_resolution_errors(client, staged):
    for uri in (f"models:/{staged}@nobody", f"models:/{staged}/Archived", f"models:/{staged}/9",
                f"models:/{staged}-missing/1"):
        with pytest.raises(MlflowException):
            client.copy_model_version(uri, staged + "-never")


# ------------------------------------------------------------------------------------------------
# Downloads through the mlflow-artifacts endpoints
# ------------------------------------------------------------------------------------------------


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return [x + self.n for x in model_input]


def artifact_home(client) -> tuple[str | None, str]:
    """(run_id, artifact root) to upload under.

    Our registry-only server has no runs: any mlflow-artifacts:/ path will do. MLflow 3.17's own server
    (TEST_AGAINST_MLFLOW=1) accepts an mlflow-artifacts source only inside the artifact root of the
    run named by run_id, so there a run is created first.
    """
    try:
        run = client.create_run("0")
    except MlflowException:
        return None, f"mlflow-artifacts:/registry-tests/{uuid.uuid4().hex}"
    return run.info.run_id, run.info.artifact_uri


def upload_model_dir(tmp_path, root: str, n: int) -> str:
    """Saves a tiny pyfunc model locally and uploads it under root; returns its mlflow-artifacts URI."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    local = tmp_path / f"model-{n}"
    mlflow.pyfunc.save_model(str(local), python_model=AddN(n), pip_requirements=["mlflow"])
    (local / "extra").mkdir()
    (local / "extra" / "notes.txt").write_text(f"model number {n}\n")
    uri = f"{root}/model-{n}"
    get_artifact_repository(uri).log_artifacts(str(local))
    return uri


@pytest.fixture()
def served_models(client, name, tmp_path):
    """v1 (adds 1) in Production, v2 (adds 2) with alias champion, v3 (adds 3) latest."""
    client.create_registered_model(name)
    rid, root = artifact_home(client)
    for n in (1, 2, 3):
        client.create_model_version(name, upload_model_dir(tmp_path, root, n), run_id=rid)
    client.transition_model_version_stage(name, "1", "Production")
    client.set_registered_model_alias(name, "champion", "2")
    return name


@pytest.mark.artifacts
@pytest.mark.parametrize("suffix, n", [("/1", 1), ("@champion", 2), ("/latest", 3), ("/Production", 1)])
def test_download_artifacts_by_models_uri(served_models, suffix, n, tmp_path):
    out = mlflow.artifacts.download_artifacts(f"models:/{served_models}{suffix}", dst_path=str(tmp_path / "dl"))
    assert os.path.isfile(os.path.join(out, "MLmodel"))
    with open(os.path.join(out, "extra", "notes.txt")) as f:
        assert f.read() == f"model number {n}\n"
    one = mlflow.artifacts.download_artifacts(f"models:/{served_models}{suffix}/extra/notes.txt",
                                              dst_path=str(tmp_path / "one"))
    with open(one) as f:
        assert f.read() == f"model number {n}\n"


@pytest.mark.artifacts
@pytest.mark.parametrize("suffix, n", [("/2", 2), ("@champion", 2), ("/latest", 3), ("/Production", 1)])
def test_pyfunc_load_model_by_models_uri(served_models, suffix, n):
    model = mlflow.pyfunc.load_model(f"models:/{served_models}{suffix}")
    assert list(model.predict([10, 20])) == [10 + n, 20 + n]


@pytest.mark.artifacts
def test_list_artifacts_of_a_version(client, served_models):
    uri = client.get_model_version_download_uri(served_models, "1")
    files = {f.path: f for f in mlflow.artifacts.list_artifacts(uri)}
    assert "MLmodel" in {os.path.basename(p) for p in files}
    assert any(f.is_dir for f in files.values())
