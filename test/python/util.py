"""Small helpers shared by the client tests."""

from __future__ import annotations

import contextlib
import uuid

import mlflow
from mlflow.exceptions import MlflowException


def assert_mlflow_error(exc: BaseException, code: str, message_part: str | None = None) -> None:
    """The client raised MlflowException (RestException for server errors) with this error code."""
    assert isinstance(exc, MlflowException), f"expected MlflowException, got {type(exc).__name__}: {exc}"
    assert exc.error_code == code, f"expected {code}, got {exc.error_code}: {exc.message}"
    if message_part is not None:
        assert message_part in exc.message, f"{message_part!r} not in {exc.message!r}"


def run_id() -> str:
    return uuid.uuid4().hex


def make_version(client, name: str, *, tags: dict | None = None, source: str | None = None,
                 run_id_: str | None = None, description: str | None = None):
    """Creates a version with a remote (non-local) source, as a training job would."""
    return client.create_model_version(
        name,
        source or f"s3://models-bucket/{name}/{uuid.uuid4().hex[:6]}",
        run_id=run_id_,
        tags=tags,
        description=description,
    )


@contextlib.contextmanager
def workspace(name: str | None):
    """Every client call inside runs in workspace `name` (the client sends X-MLFLOW-WORKSPACE)."""
    mlflow.set_workspace(name)
    try:
        yield
    finally:
        mlflow.set_workspace(None)
