"""Differential replay as a test: corpus.yaml against MLflow's own server and ours (scripts/replay.py).

Fails on any difference not listed in deviations.yaml; the full list is in test/replay/report.md.
The workspace section (corpus.yaml's `workspace_cases`, issue 16) is replayed the same way to
`mlflow server --enable-workspaces` and ours with MLFLOW_ENABLE_WORKSPACES=true (replay_workspaces.py;
deviations.yaml's `workspace_deviations`; report test/replay/report-workspaces.md).
Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres:postgres@127.0.0.1:5432/postgres):
skipped without it locally, failed without it in CI.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "python"))
import harness  # noqa: E402


sys.path.insert(0, str(ROOT / "scripts"))
import replay  # noqa: E402  (scripts/replay.py)

sys.path.insert(0, str(ROOT / "test" / "replay"))
import replay_workspaces  # noqa: E402


def test_corpus_is_well_formed():
    cases = replay.load_corpus()
    assert len(cases) >= 300, f"the corpus has {len(cases)} cases, want at least 300"
    ops = {c.operation for c in cases}
    missing = sorted(set(replay.OPERATIONS.values()) - ops)
    assert not missing, f"operations without a case: {missing}"
    ids = {c.id for c in cases}
    unknown = sorted(set(replay.load_deviations()) - ids)
    assert not unknown, f"deviations.yaml names cases that are not in the corpus: {unknown}"


def test_normalisation():
    windows = [(100, 105, "create"), (110, 112, "update")]
    body = {"registered_model": {"creation_timestamp": 103, "last_updated_timestamp": 111,
                                 "tags": [{"key": "b", "value": "1"}, {"key": "a", "value": "2"}],
                                 "aliases": [{"alias": "z", "version": "1"}, {"alias": "c", "version": "2"}],
                                 "latest_versions": [{"version": "3", "current_stage": "Staging", "last_updated_timestamp": 999},
                                                     {"version": "2", "current_stage": "None", "aliases": ["y", "x"]}]},
            "message": "Valid keys are '{'run_id', 'name'}'"}
    n = replay.normalise_json(body, windows)
    rm = n["registered_model"]
    assert (rm["creation_timestamp"], rm["last_updated_timestamp"]) == ("<t:create>", "<t:update>")
    assert [t["key"] for t in rm["tags"]] == ["a", "b"]
    assert [a["alias"] for a in rm["aliases"]] == ["c", "z"]
    assert [v["version"] for v in rm["latest_versions"]] == ["2", "3"]
    assert rm["latest_versions"][0]["aliases"] == ["x", "y"]
    assert rm["latest_versions"][1]["last_updated_timestamp"] == "<t:?>"
    assert n["message"] == "Valid keys are '{'name', 'run_id'}'"
    err = lambda code, msg, **kw: {"status": 400, "body": {"error_code": code, "message": msg, **kw}}  # noqa: E731
    assert replay.aspects_differing(err("A", "m"), err("A", "m")) == []
    assert replay.aspects_differing(err("A", "m", sqlstate="KAM00"), err("A", "m")) == ["error_class"]
    assert replay.aspects_differing(err("A", "m"), err("B", "n")) == ["error_code", "message"]
    assert replay.aspects_differing({"status": 404, "body": "<non-JSON text/html body>"}, err("A", "m")) == ["status", "body"]


def test_workspace_section_is_well_formed():
    cases = replay_workspaces.load_cases()
    assert len(cases) >= 60, f"the workspace section has {len(cases)} cases, want at least 60"
    main_ids = {c.id for c in replay.load_corpus()}
    ids = {c.id for c in cases}
    assert not ids & main_ids, f"ids in both sections: {sorted(ids & main_ids)}"
    # every registry operation is replayed inside a workspace, and the workspace API is
    in_workspace = {c.operation for c in cases if c.operation and "x-mlflow-workspace" in {k.lower() for k in c.headers}}
    missing = sorted(set(replay.OPERATIONS.values()) - in_workspace)
    assert not missing, f"registry operations without a case under X-MLFLOW-WORKSPACE: {missing}"
    methods = {(c.method, c.path.split("/api/3.0/mlflow/workspaces")[-1] != "") for c in cases
               if "/3.0/mlflow/workspaces" in c.path}
    assert methods >= {("GET", False), ("POST", False), ("GET", True), ("PATCH", True), ("DELETE", True)}, methods
    unknown = sorted(set(replay_workspaces.load_deviations()) - ids)
    assert not unknown, f"deviations.yaml's workspace_deviations name cases that are not in the section: {unknown}"


def _postgres_or_skip():
    reason = harness.postgres_unavailable_reason()
    if reason:
        if os.environ.get("CI") or os.environ.get("TEST_DATABASE_URL"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def summary():
    _postgres_or_skip()
    ours_db = os.environ.get("REPLAY_OURS_DB", "postgres")
    # Each store of ours has its report (REPLAY_OURS_DB=s3: METADATA_STORE=s3, report-s3.md).
    suffix = "" if ours_db in ("postgres", "pglite") else f"-{ours_db}"
    return replay.replay(ours_db=ours_db, report=ROOT / "test" / "replay" / f"report{suffix}.md",
                         raw=ROOT / "test-results" / f"replay-results{suffix}.json", log=lambda m: print(m, file=sys.stderr))


@pytest.fixture(scope="module")
def workspace_summary():
    _postgres_or_skip()
    ours_db = os.environ.get("REPLAY_OURS_DB", "postgres")
    return replay_workspaces.run(ours_db=ours_db, log=lambda m: print(m, file=sys.stderr))


def test_no_unexplained_differences(summary):
    _fail_on_unexplained(summary, "test/replay/deviations.yaml")


def test_workspace_section_no_unexplained_differences(workspace_summary):
    _fail_on_unexplained(workspace_summary, "the workspace_deviations section of test/replay/deviations.yaml")


def _fail_on_unexplained(summary, where: str) -> None:
    bad = [o for o in summary["outcomes"] if o.differing and not o.explained]
    if not bad:
        return
    by_aspects: dict[str, list[str]] = {}
    for o in bad:
        key = ", ".join(o.differing)
        if o.deviation:
            key += f" (a deviation accepts only {', '.join(o.deviation['accept'])})"
        by_aspects.setdefault(key, []).append(o.case.id)
    lines = [f"{len(ids)} differ in {k}: {', '.join(ids[:25])}{' …' if len(ids) > 25 else ''}"
             for k, ids in sorted(by_aspects.items(), key=lambda kv: -len(kv[1]))]
    pytest.fail(
        f"{len(bad)} of {summary['cases']} replayed requests differ from MLflow without a deviation in "
        f"{where}; requests and both responses are in {summary['report']}:\n  "
        + "\n  ".join(lines),
        pytrace=False,
    )


def test_every_operation_replayed(summary):
    assert summary["uncovered_operations"] == []
