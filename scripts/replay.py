#!/usr/bin/env python3
"""Differential replay: the same requests, in order, to MLflow's own server and to ours; every difference reported.

    .venv/bin/python scripts/replay.py                 # start both servers on fresh databases, write the report
    .venv/bin/python scripts/replay.py --ours-db pglite
    .venv/bin/python scripts/replay.py --mlflow-url http://127.0.0.1:5000 --ours-url http://127.0.0.1:8000
    .venv/bin/python scripts/replay.py --self-check --report /tmp/self.md   # MLflow against MLflow

By default both servers are started here on fresh PostgreSQL databases (two, on the server named by
TEST_DATABASE_URL, default postgres://postgres:postgres@127.0.0.1:5432/postgres): `mlflow server` from this
Python environment, and ours with node. Given URLs, already running servers are used; they must be fresh
(empty registry), since the corpus creates models under fixed names.

The corpus (test/replay/corpus.yaml) is a list of cases:

    - id: rm-create-basic                  # unique; referenced by deviations and substitutions
      req: POST /registered-models/create  # paths without /api or /ajax-api get /api/2.0/mlflow in front
      json: {name: alpha}                  # JSON body (Content-Type: application/json)
      query: {name: alpha, stages: [a, b]} # query string; lists become repeated keys
      body: "raw text"                     # raw body instead of json; headers: {content-type: ...}
      raw_query: "a=1&a=2"                 # a query string sent verbatim

A string "${<case-id>.<dotted.path>}" is replaced with that value from the earlier response to case-id of
the same server (page tokens), and "<<x*N>>" with N copies of x (long values).

Responses are normalised before comparison:
  * creation_timestamp / last_updated_timestamp → "<t:CASE>", the id of the request during which the
    server wrote the value (requests never share a millisecond: the runner waits between them), so the
    comparison checks which operation touched an entity last, not the clock;
  * ordering that MLflow does not define is sorted: tags by key, aliases, a RegisteredModel's
    latest_versions and get-latest-versions' model_versions by (stage, version);
  * a body that is not JSON becomes "<non-JSON TYPE body>", keeping the status code;
  * Python sets printed in error messages ("Valid keys are '{'name', 'run_id'}'") are sorted: MLflow
    prints them in an order that changes from process to process.

Deviations (test/replay/deviations.yaml) list the deliberate differences:

    - id: some-case-id            # or ids: [a, b]
      reason: "400 instead of MLflow's 500: the client would retry a 500 for minutes"
      accept: [status, error_code, message]   # what may differ; omit for "anything"

Aspects: status; error_code; error_class (the error_class and sqlstate fields MLflow 3.17 derives from the
error code); message; body (anything else in the body, or a body that is not an MLflow error).

The report (test/replay/report.md) lists every difference and whether a deviation explains it. The exit
status is 1 when any difference is unexplained.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import pathlib
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "python"))
import harness  # noqa: E402

CORPUS = ROOT / "test" / "replay" / "corpus.yaml"
DEVIATIONS = ROOT / "test" / "replay" / "deviations.yaml"
REPORT = ROOT / "test" / "replay" / "report.md"
RAW = ROOT / "test-results" / "replay-results.json"

API = "/api/2.0/mlflow"
TIMESTAMP_KEYS = {"creation_timestamp", "last_updated_timestamp"}
ASPECTS = ("status", "error_code", "error_class", "message", "body")
ERROR_CLASS_KEYS = ("error_class", "sqlstate")

# The 22 registry operations: (method, path) → operationId, as in openapi/openapi.yaml.
OPERATIONS = {
    ("POST", "/registered-models/create"): "createRegisteredModel",
    ("POST", "/registered-models/rename"): "renameRegisteredModel",
    ("PATCH", "/registered-models/update"): "updateRegisteredModel",
    ("DELETE", "/registered-models/delete"): "deleteRegisteredModel",
    ("GET", "/registered-models/get"): "getRegisteredModel",
    ("GET", "/registered-models/search"): "searchRegisteredModels",
    ("GET", "/registered-models/get-latest-versions"): "getLatestVersionsGet",
    ("POST", "/registered-models/get-latest-versions"): "getLatestVersions",
    ("POST", "/registered-models/set-tag"): "setRegisteredModelTag",
    ("DELETE", "/registered-models/delete-tag"): "deleteRegisteredModelTag",
    ("GET", "/registered-models/alias"): "getModelVersionByAlias",
    ("POST", "/registered-models/alias"): "setRegisteredModelAlias",
    ("DELETE", "/registered-models/alias"): "deleteRegisteredModelAlias",
    ("POST", "/model-versions/create"): "createModelVersion",
    ("PATCH", "/model-versions/update"): "updateModelVersion",
    ("POST", "/model-versions/transition-stage"): "transitionModelVersionStage",
    ("DELETE", "/model-versions/delete"): "deleteModelVersion",
    ("GET", "/model-versions/get"): "getModelVersion",
    ("GET", "/model-versions/search"): "searchModelVersions",
    ("GET", "/model-versions/get-download-uri"): "getModelVersionDownloadUri",
    ("POST", "/model-versions/set-tag"): "setModelVersionTag",
    ("DELETE", "/model-versions/delete-tag"): "deleteModelVersionTag",
}


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    method: str
    path: str
    query: dict | None = None
    raw_query: str | None = None
    json_body: Any = None
    has_json: bool = False
    body: str | None = None
    headers: dict = field(default_factory=dict)
    note: str | None = None

    @property
    def full_path(self) -> str:
        return self.path if self.path.startswith(("/api/", "/ajax-api/")) or self.path == "/health" else API + self.path

    @property
    def operation(self) -> str | None:
        p = self.full_path
        for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
            if p.startswith(prefix):
                return OPERATIONS.get((self.method, p[len(prefix):]))
        return None

    def describe(self) -> str:
        q = ""
        if self.raw_query is not None:
            q = "?" + self.raw_query
        elif self.query:
            q = "?" + urlencode(self.query, doseq=True)
        s = f"{self.method} {self.full_path}{q}"
        if self.has_json:
            s += " " + json.dumps(self.json_body, ensure_ascii=False)
        elif self.body is not None:
            s += f" body={self.body!r}"
        if self.headers:
            s += f" headers={self.headers}"
        return s


def load_corpus(path: pathlib.Path = CORPUS) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["cases"] if isinstance(data, dict) else data
    cases, seen = [], set()
    for raw in items:
        cid = raw["id"]
        if cid in seen:
            raise ValueError(f"duplicate case id {cid}")
        seen.add(cid)
        method, _, p = raw["req"].partition(" ")
        c = Case(id=cid, method=method.upper(), path=p.strip(), query=expand(raw.get("query")),
                 raw_query=expand(raw.get("raw_query")), body=expand(raw.get("body")), headers=raw.get("headers") or {},
                 note=raw.get("note"))
        if "json" in raw:
            c.json_body, c.has_json = expand(raw["json"]), True
        cases.append(c)
    return cases


def load_deviations(path: pathlib.Path = DEVIATIONS) -> dict[str, dict]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    items = data["deviations"] if isinstance(data, dict) else data
    out: dict[str, dict] = {}
    for d in items:
        ids = d.get("ids") or [d["id"]]
        accept = d.get("accept") or list(ASPECTS)
        for a in accept:
            if a not in ASPECTS:
                raise ValueError(f"deviation {ids}: unknown aspect {a!r} (one of {ASPECTS})")
        for i in ids:
            if i in out:
                raise ValueError(f"deviation for {i} listed twice")
            out[i] = {"reason": d["reason"].strip(), "accept": accept, "group": d.get("group", "")}
    return out


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------

_SUBST = re.compile(r"\$\{([^}.]+)\.([^}]+)\}")
_REPEAT = re.compile(r"<<(.+?)\*(\d+)>>", re.S)


def expand(value: Any) -> Any:
    """"<<x*N>>" → N copies of x, anywhere in any string of the case."""
    if isinstance(value, str):
        return _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), value)
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, dict):
        return {expand(k): expand(v) for k, v in value.items()}
    return value


def _lookup(bodies: dict[str, Any], cid: str, dotted: str) -> Any:
    v = bodies.get(cid)
    for part in dotted.split("."):
        if isinstance(v, dict):
            v = v.get(part)
        elif isinstance(v, list) and part.isdigit() and int(part) < len(v):
            v = v[int(part)]
        else:
            return None
    return v


def substitute(value: Any, bodies: dict[str, Any]) -> Any:
    if isinstance(value, str):
        m = _SUBST.fullmatch(value)
        if m:
            got = _lookup(bodies, m.group(1), m.group(2))
            return "" if got is None else got
        return _SUBST.sub(lambda mm: str(_lookup(bodies, mm.group(1), mm.group(2)) or ""), value)
    if isinstance(value, list):
        return [substitute(v, bodies) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, bodies) for k, v in value.items()}
    return value


@dataclass
class Result:
    status: int
    content_type: str
    text: str
    body: Any  # parsed JSON, or None
    t0: int
    t1: int


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def send(session: requests.Session, base: str, case: Case, bodies: dict[str, Any]) -> Result:
    url = base + case.full_path
    if case.raw_query is not None:
        url += "?" + substitute(case.raw_query, bodies)
    params = substitute(case.query, bodies) if case.query else None
    headers = {k.lower(): v for k, v in case.headers.items()}
    data = None
    if case.has_json:
        data = json.dumps(substitute(case.json_body, bodies)).encode("utf-8")
        headers.setdefault("content-type", "application/json")
    elif case.body is not None:
        data = substitute(case.body, bodies).encode("utf-8")
    # No default Content-Type from requests for raw bodies: a case that wants none gets none.
    req = requests.Request(case.method, url, params=params, data=data, headers=headers)
    prepared = session.prepare_request(req)
    if "content-type" not in headers:
        prepared.headers.pop("Content-Type", None)
    t0 = now_ms()
    r = session.send(prepared, timeout=60, allow_redirects=False)
    t1 = now_ms()
    try:
        parsed = r.json()
    except ValueError:
        parsed = None
    return Result(r.status_code, r.headers.get("content-type", ""), r.text, parsed, t0, t1)


def run_corpus(base: str, cases: list[Case], gap_ms: int = 3) -> tuple[list[Result], list[tuple[int, int, str]]]:
    session = requests.Session()
    bodies: dict[str, Any] = {}
    results, windows = [], []
    for c in cases:
        r = send(session, base, c, bodies)
        bodies[c.id] = r.body
        results.append(r)
        windows.append((r.t0, r.t1, c.id))
        # the next request starts in a later millisecond than any this one could have stamped
        while now_ms() <= r.t1 + gap_ms - 1:
            time.sleep(0.0005)
    return results, windows


# ---------------------------------------------------------------------------------------------
# Normalisation and comparison
# ---------------------------------------------------------------------------------------------


def _ts_label(v: Any, windows: list[tuple[int, int, str]]) -> Any:
    if not isinstance(v, int):
        return v
    for t0, t1, cid in windows:
        if t0 <= v <= t1:
            return f"<t:{cid}>"
    return "<t:?>"


def _stage_version(mv: Any) -> tuple:
    if not isinstance(mv, dict):
        return ("", 0)
    try:
        return (str(mv.get("current_stage", "")), int(mv.get("version", 0)))
    except (TypeError, ValueError):
        return (str(mv.get("current_stage", "")), 0)


def _sort_key(x: Any) -> str:
    return json.dumps(x, sort_keys=True, ensure_ascii=False)


_PY_SET = re.compile(r"\{('[^'{}]*'(?:, '[^'{}]*')+)\}")


def _sorted_sets(message: str) -> str:
    """MLflow prints Python sets ("Valid keys are '{'name', 'run_id'}'") in per-process hash order."""
    return _PY_SET.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def normalise_json(v: Any, windows, key: str | None = None) -> Any:
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in TIMESTAMP_KEYS:
                out[k] = _ts_label(x, windows)
            elif k == "message" and isinstance(x, str):
                out[k] = _sorted_sets(x)
            else:
                out[k] = normalise_json(x, windows, k)
        return out
    if isinstance(v, list):
        items = [normalise_json(x, windows, key) for x in v]
        if key == "tags":
            items.sort(key=lambda t: (str(t.get("key")) if isinstance(t, dict) else "", _sort_key(t)))
        elif key == "aliases":
            items.sort(key=lambda a: (str(a.get("alias")) if isinstance(a, dict) else str(a), _sort_key(a)))
        elif key == "latest_versions":
            items.sort(key=lambda mv: (_stage_version(mv), _sort_key(mv)))
        return items
    return v


def normalise(case: Case, r: Result, windows) -> dict:
    out: dict[str, Any] = {"status": r.status}
    if r.body is not None and r.text.strip():
        body = normalise_json(r.body, windows)
        if case.operation in ("getLatestVersions", "getLatestVersionsGet") and isinstance(body, dict):
            mvs = body.get("model_versions")
            if isinstance(mvs, list):
                body["model_versions"] = sorted(mvs, key=lambda mv: (_stage_version(mv), _sort_key(mv)))
        out["body"] = body
    elif r.text.strip():
        kind = r.content_type.split(";")[0].strip() or "untyped"
        out["body"] = f"<non-JSON {kind} body>"
    else:
        out["body"] = "<empty body>"
    return out


def aspects_differing(a: dict, b: dict) -> list[str]:
    """Which of status / error_code / error_class (with sqlstate) / message / body (anything else) differ."""
    diff = []
    if a["status"] != b["status"]:
        diff.append("status")
    ba, bb = a["body"], b["body"]
    if isinstance(ba, dict) and isinstance(bb, dict) and ("error_code" in ba or "error_code" in bb):
        if ba.get("error_code") != bb.get("error_code"):
            diff.append("error_code")
        if any(ba.get(k) != bb.get(k) for k in ERROR_CLASS_KEYS):
            diff.append("error_class")
        if ba.get("message") != bb.get("message"):
            diff.append("message")
        skip = ("error_code", "message", *ERROR_CLASS_KEYS)
        rest_a = {k: v for k, v in ba.items() if k not in skip}
        rest_b = {k: v for k, v in bb.items() if k not in skip}
        if rest_a != rest_b:
            diff.append("body")
    elif ba != bb:
        diff.append("body")
    return diff


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def _fmt(v: Any, limit: int = 1500) -> str:
    s = json.dumps(v, indent=1, ensure_ascii=False, sort_keys=True) if not isinstance(v, str) else v
    if len(s) > limit:
        s = s[:limit] + f"… ({len(s) - limit} more characters)"
    return s


@dataclass
class Outcome:
    case: Case
    mlflow: dict
    ours: dict
    differing: list[str]
    deviation: dict | None

    @property
    def explained(self) -> bool:
        return not self.differing or (self.deviation is not None and set(self.differing) <= set(self.deviation["accept"]))


def compare(cases, mlflow_results, mlflow_windows, ours_results, ours_windows, deviations) -> list[Outcome]:
    outcomes = []
    for c, rm, ro in zip(cases, mlflow_results, ours_results):
        nm = normalise(c, rm, mlflow_windows)
        no = normalise(c, ro, ours_windows)
        outcomes.append(Outcome(c, nm, no, aspects_differing(nm, no), deviations.get(c.id)))
    return outcomes


def write_report(path: pathlib.Path, outcomes: list[Outcome], deviations: dict, meta: dict) -> dict:
    ops: dict[str, int] = {op: 0 for op in OPERATIONS.values()}
    other = 0
    for o in outcomes:
        if o.case.operation:
            ops[o.case.operation] += 1
        else:
            other += 1
    differing = [o for o in outcomes if o.differing]
    unexplained = [o for o in differing if not o.explained]
    explained = [o for o in differing if o.explained]
    ids = {o.case.id for o in outcomes}
    diff_ids = {o.case.id for o in differing}
    stale = sorted(i for i in deviations if i in ids and i not in diff_ids)
    unknown = sorted(i for i in deviations if i not in ids)
    summary = {
        "cases": len(outcomes),
        "differences": len(differing),
        "explained": len(explained),
        "unexplained": len(unexplained),
        "stale_deviations": stale,
        "unknown_deviation_ids": unknown,
        "uncovered_operations": sorted(op for op, n in ops.items() if n == 0),
    }

    L = []
    L.append("# Differential replay: MLflow server vs. ours\n")
    L.append("Generated by `scripts/replay.py` (do not edit by hand). Corpus: `test/replay/corpus.yaml`; "
             "deliberate deviations: `test/replay/deviations.yaml`.\n")
    L.append(f"- MLflow: **{meta['mlflow_version']}** (`mlflow server`, SQL backend on PostgreSQL)")
    L.append(f"- ours: `{meta['ours']}`")
    L.append(f"- run: {meta['when']}, {meta['seconds']:.1f} s")
    L.append(f"- cases: **{summary['cases']}**; identical: {summary['cases'] - summary['differences']}; "
             f"differences: **{summary['differences']}** ({summary['explained']} deliberate, "
             f"**{summary['unexplained']} unexplained**)")
    if stale:
        L.append(f"- deviations listed but no longer differing (stale): {', '.join(stale)}")
    if unknown:
        L.append(f"- deviations naming no case of the corpus: {', '.join(unknown)}")
    L.append("\n## Coverage\n")
    L.append("| operation | cases |\n|---|---|")
    for op, n in ops.items():
        L.append(f"| {op} | {n} |")
    L.append(f"| (other paths and methods) | {other} |")

    def block(o: Outcome) -> None:
        L.append(f"### `{o.case.id}`\n")
        L.append(f"- request: `{o.case.describe()[:600]}`")
        if o.case.note:
            L.append(f"- note: {o.case.note}")
        L.append(f"- differs in: {', '.join(o.differing)}")
        if o.deviation:
            L.append(f"- deviation (accepts {', '.join(o.deviation['accept'])}): {o.deviation['reason']}")
        L.append("\nMLflow:\n\n```json\n" + _fmt(o.mlflow) + "\n```\n\nours:\n\n```json\n" + _fmt(o.ours) + "\n```\n")

    L.append("\n## Unexplained differences\n")
    if not unexplained:
        L.append("None.\n")
    for o in unexplained:
        block(o)
    L.append("\n## Deliberate deviations (listed in deviations.yaml)\n")
    if not explained:
        L.append("None.\n")
    for o in explained:
        block(o)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(L) + "\n", encoding="utf-8")
    return summary


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


# Where our server keeps its metadata in a replay (--ours-db), as the report names it.
OURS_STORES = {"postgres": "a fresh PostgreSQL database", "pglite": "PGlite",
               "s3": "a fresh S3 bucket (METADATA_STORE=s3, S3_TEST_ENDPOINT)"}


def replay(
    *,
    corpus: pathlib.Path = CORPUS,
    deviations_path: pathlib.Path = DEVIATIONS,
    report: pathlib.Path = REPORT,
    raw: pathlib.Path | None = RAW,
    mlflow_url: str | None = None,
    ours_url: str | None = None,
    ours_db: str = "postgres",
    ours_is_mlflow: bool = False,
    log=print,
) -> dict:
    cases = load_corpus(corpus)
    deviations = load_deviations(deviations_path)
    started = time.monotonic()
    cleanup: list = []
    lock = threading.Lock()

    def on_cleanup(f, first: bool = False) -> None:
        with lock:
            cleanup.insert(0, f) if first else cleanup.append(f)

    def start_mlflow_side() -> str:
        db = harness.create_database("replay_mlflow")
        on_cleanup(lambda: harness.drop_database(db))
        log(f"replay: starting mlflow server {harness.mlflow_version()} on a fresh database")
        p = harness.start_mlflow(db)
        on_cleanup(p.stop, first=True)
        return p.url

    def start_ours_side() -> str:
        if ours_is_mlflow:  # self-check of the runner: MLflow against MLflow must not differ
            db = harness.create_database("replay_mlflow2")
            on_cleanup(lambda: harness.drop_database(db))
            p = harness.start_mlflow(db)
            on_cleanup(p.stop, first=True)
            return p.url
        db = None
        env = None
        if ours_db == "postgres":
            db = harness.create_database("replay_ours")
            on_cleanup(lambda: harness.drop_database(db))
        if ours_db == "s3":
            bucket = harness.S3MetadataBucket()
            on_cleanup(bucket.cleanup)
            env = bucket.env
        log(f"replay: starting our server on {OURS_STORES[ours_db]}")
        p = harness.start_ours(db, env=env)
        on_cleanup(p.stop, first=True)
        return p.url

    ours_desc = ours_url or ""
    if ours_url is None:
        ours_desc = f"node packages/server/src/main.ts on {OURS_STORES[ours_db]}"
        if ours_is_mlflow:
            ours_desc = "a second mlflow server (self-check of the runner)"
    try:
        # The two sides are independent: start them, and replay to them, at the same time.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            fm = pool.submit(start_mlflow_side) if mlflow_url is None else None
            fo = pool.submit(start_ours_side) if ours_url is None else None
            mlflow_url = fm.result() if fm else mlflow_url
            ours_url = fo.result() if fo else ours_url
            log(f"replay: {len(cases)} cases → mlflow {mlflow_url} and ours {ours_url}")
            rm = pool.submit(run_corpus, mlflow_url, cases)
            ro = pool.submit(run_corpus, ours_url, cases)
            m_res, m_win = rm.result()
            o_res, o_win = ro.result()
    finally:
        for f in cleanup:
            try:
                f()
            except Exception as e:  # noqa: BLE001
                log(f"replay: cleanup failed: {e}")
    outcomes = compare(cases, m_res, m_win, o_res, o_win, deviations)
    meta = {
        "mlflow_version": harness.mlflow_version(),
        "ours": ours_desc,
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": time.monotonic() - started,
    }
    summary = write_report(report, outcomes, deviations, meta)
    if raw is not None:
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps([
            {"id": o.case.id, "request": o.case.describe(), "mlflow": o.mlflow, "ours": o.ours,
             "differing": o.differing, "explained": o.explained}
            for o in outcomes
        ], indent=1, ensure_ascii=False), encoding="utf-8")
    summary["outcomes"] = outcomes
    summary["report"] = str(report)
    log(f"replay: {summary['cases']} cases, {summary['differences']} differences "
        f"({summary['explained']} deliberate, {summary['unexplained']} unexplained); report: {report}")
    return summary


def exit_status(summary: dict) -> int:
    """Prints each unexplained difference of a replay's summary; 1 when there is any."""
    for o in summary["outcomes"]:
        if o.differing and not o.explained:
            print(f"  unexplained: {o.case.id}: {', '.join(o.differing)}")
    return 1 if summary["unexplained"] else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=pathlib.Path, default=CORPUS)
    ap.add_argument("--deviations", type=pathlib.Path, default=DEVIATIONS)
    ap.add_argument("--report", type=pathlib.Path, default=REPORT)
    ap.add_argument("--mlflow-url", help="use this running (fresh) mlflow server")
    ap.add_argument("--ours-url", help="use this running (fresh) server of ours")
    ap.add_argument("--ours-db", choices=tuple(OURS_STORES), default="postgres",
                    help="where our server keeps its metadata when started here (default: a fresh PostgreSQL "
                         "database; s3: METADATA_STORE=s3 on a fresh bucket of the S3 server at S3_TEST_ENDPOINT)")
    ap.add_argument("--self-check", action="store_true",
                    help="replay to two fresh mlflow servers: shows what the normalisation leaves (only the "
                         "database error texts, which embed timestamps)")
    a = ap.parse_args(argv)
    s = replay(corpus=a.corpus, deviations_path=a.deviations, report=a.report, mlflow_url=a.mlflow_url,
               ours_url=a.ours_url, ours_db=a.ours_db, ours_is_mlflow=a.self_check)
    return exit_status(s)


if __name__ == "__main__":
    sys.exit(main())
