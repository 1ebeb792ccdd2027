#!/usr/bin/env python3
"""The differential replay's workspace section (issue 16), on servers with workspaces on.

The `workspace_cases` section of corpus.yaml is sent, in order, to a fresh `mlflow server --enable-workspaces`
and to a fresh server of ours with MLFLOW_ENABLE_WORKSPACES=true (both on fresh PostgreSQL databases), by the
same runner, normalisation and comparison as the main corpus (scripts/replay.py); the deliberate differences
are the `workspace_deviations` section of deviations.yaml, the report is test/replay/report-workspaces.md.
The main replay reads only `cases` and `deviations`, so it is unchanged by these sections.

    .venv/bin/python test/replay/replay_workspaces.py            # start both servers, write the report
    .venv/bin/python test/replay/replay_workspaces.py --ours-db pglite
    .venv/bin/python test/replay/replay_workspaces.py --self-check --report /tmp/self.md   # MLflow against MLflow
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import shutil
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
import harness  # noqa: E402
import replay  # noqa: E402  (scripts/replay.py)

CASES_KEY = "workspace_cases"
DEVIATIONS_KEY = "workspace_deviations"
REPORT = ROOT / "test" / "replay" / "report-workspaces.md"
RAW = ROOT / "test-results" / "replay-workspaces-results.json"


def section(path: pathlib.Path, key: str) -> list:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data.get(key) or []


def write_section(path: pathlib.Path, key: str, as_key: str, dest: pathlib.Path) -> pathlib.Path:
    """The `key` section of a YAML file as a file of its own under `as_key`, which scripts/replay.py reads."""
    dest.write_text(yaml.safe_dump({as_key: section(path, key)}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def load_section(path: pathlib.Path, key: str, as_key: str, loader):
    """The `key` section of `path`, parsed by `loader` (scripts/replay.py's) as a file whose only key is `as_key`."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="replay-ws-"))
    try:
        return loader(write_section(path, key, as_key, tmp / "section.yaml"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_cases() -> list:
    """The workspace cases, parsed as scripts/replay.py parses the main corpus."""
    return load_section(replay.CORPUS, CASES_KEY, "cases", replay.load_corpus)


def load_deviations() -> dict:
    return load_section(replay.DEVIATIONS, DEVIATIONS_KEY, "deviations", replay.load_deviations)


def run(*, ours_db: str = "postgres", self_check: bool = False, report: pathlib.Path = REPORT,
        raw: pathlib.Path | None = RAW, log=print) -> dict:
    """Starts both servers with workspaces on, replays the workspace section, stops them; returns the summary
    of scripts/replay.py's replay()."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="replay-ws-"))
    dbs: list[str] = []
    procs: list = []

    def start(kind: str, use_db: bool):
        db = harness.create_database(f"replayws_{kind}") if use_db else None
        if db:
            dbs.append(db)
        if kind == "mlflow":
            p = harness.start_mlflow(db, workspaces=True)
        else:
            # PGlite: no DATABASE_URL (start_workspace_server needs one)
            p = harness.start_ours(db, env={"MLFLOW_ENABLE_WORKSPACES": "true"})
        procs.append(p)
        return p.url

    try:
        corpus = write_section(replay.CORPUS, CASES_KEY, "cases", tmp / "corpus.yaml")
        deviations = write_section(replay.DEVIATIONS, DEVIATIONS_KEY, "deviations", tmp / "deviations.yaml")
        second = "mlflow" if self_check else "ours"
        log(f"replay (workspaces): starting mlflow server --enable-workspaces and {second} with workspaces on")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            fm = pool.submit(start, "mlflow", True)
            fo = pool.submit(start, second, second == "mlflow" or ours_db == "postgres")
            mlflow_url, ours_url = fm.result(), fo.result()
        summary = replay.replay(corpus=corpus, deviations_path=deviations, report=report, raw=raw,
                                mlflow_url=mlflow_url, ours_url=ours_url, log=log)
    finally:
        for p in procs:
            p.stop()
        for db in dbs:
            harness.drop_database(db)
        shutil.rmtree(tmp, ignore_errors=True)
    ours_desc = ("a second mlflow server --enable-workspaces (self-check of the runner)" if self_check else
                 f"node packages/server/src/main.ts with MLFLOW_ENABLE_WORKSPACES=true on "
                 f"{'PostgreSQL' if ours_db == 'postgres' else 'PGlite'}")
    _describe(report, ours_desc)
    return summary


def _describe(report: pathlib.Path, ours_desc: str) -> None:
    """scripts/replay.py writes the servers' URLs and the main corpus' file names into the header: say what ran."""
    lines = report.read_text(encoding="utf-8").split("\n")
    out = []
    for line in lines:
        if line.startswith("# Differential replay"):
            line = "# Differential replay, workspace section: MLflow server vs. ours, workspaces on"
        elif line.startswith("Generated by `scripts/replay.py`"):
            line = ("Generated by `test/replay/replay_workspaces.py` (do not edit by hand). Corpus: the "
                    "`workspace_cases` section of `test/replay/corpus.yaml`; deliberate deviations: the "
                    "`workspace_deviations` section of `test/replay/deviations.yaml`.")
        elif line.startswith("- MLflow: **"):
            line = line.replace("(`mlflow server`,", "(`mlflow server --enable-workspaces`,")
        elif line.startswith("- ours: `"):
            line = f"- ours: `{ours_desc}`"
        out.append(line)
    report.write_text("\n".join(out), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=pathlib.Path, default=REPORT)
    ap.add_argument("--ours-db", choices=("postgres", "pglite"), default="postgres")
    ap.add_argument("--self-check", action="store_true", help="replay to two fresh mlflow servers")
    a = ap.parse_args(argv)
    s = run(ours_db=a.ours_db, self_check=a.self_check, report=a.report, raw=None if a.self_check else RAW)
    return replay.exit_status(s)


if __name__ == "__main__":
    sys.exit(main())
