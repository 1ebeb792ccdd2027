/**
 * Tests for validation.ts.
 *
 * MLFLOW_TABLE below was produced by running MLflow 3.17.2's own functions (installed in
 * /work/pyvenv) on every input: `_validate_model_name`, `_validate_model_renaming`,
 * `_validate_model_version`, `_validate_tag_name` (+ `_validate_length_limit`),
 * `_validate_registered_model_tag`, `_validate_model_version_tag`, `_validate_model_alias_name`,
 * `_validate_model_alias_name_reserved`, `get_canonical_stage`, the archive check at the top of
 * `SqlAlchemyStore.transition_model_version_stage`, `_validate_webhook_name`, `_validate_webhook_url`
 * (MLFLOW_WEBHOOK_ALLOWED_SCHEMES set per row, private IPs allowed so no DNS), `WebhookEvent(...)` +
 * `_validate_webhook_events`, and for sources the slice of `_create_model_version` that needs no
 * tracking store: the regex check, `_validate_prompt_source`, `is_local_uri` → `_validate_source_run`
 * (or `_validate_source_model`) with no run, `_validate_non_local_source_contains_relative_paths`.
 * That slice was also cross-checked against the real REST handler (Flask test client, SQLite store):
 * they agree on every row except where 3.17's extra checks this module does not cover (host-addressed
 * scheme policy, runs:/ / mlflow-artifacts lineage) or the handler's `_assert_required` answer first.
 *
 * Rows with `mlflow:` are the deliberate differences listed at the top of validation.ts: `error` is
 * our answer and `mlflow` what MLflow does instead. Every other row is MLflow's exact 400 message
 * (INVALID_PARAMETER_VALUE), or acceptance (and the returned value where there is one).
 */
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../errors.js';
import * as v from './validation.js';

// MLflow's long message templates, verbatim.
const nonLocal = (s: string): string =>
  `Invalid model version source: '${s}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`;
const local = (s: string, id = 'run_id'): string =>
  `Invalid model version source: '${s}'. To use a local path as a model version source, the ${id} request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the ${id}.`;
const badPath = (param: string, json: string, normRepr: string): string =>
  `Invalid value ${json} for parameter '${param}' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to ${normRepr}`;
const badChars = (json: string): string =>
  `Invalid value ${json} for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`;
const badWebhookName = (repr: string): string =>
  `Webhook name ${repr} is invalid. It must start and end with a letter or digit, be less than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).`;
const wrongType = (param: string, json: string, type: string): string =>
  `Invalid value ${json} for parameter '${param}' supplied:  Hint: Value was of type '${type}'. See the API docs for more information about request parameters.`;

interface Row {
  args: unknown[];
  ok?: true;
  returns?: unknown;
  error?: string;
  /** Deliberate difference: what MLflow does instead. */
  mlflow?: string;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectInvalid(f: () => unknown, message: string): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(MlflowError);
  const err = e as MlflowError;
  expect(err.message).toBe(message);
  expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
  expect(err.status).toBe(400);
}

type SourceOpts = { isPrompt: boolean; regex?: string; modelId?: string };
const FNS: Record<string, (...args: any[]) => unknown> = {
  validateModelName: (n: unknown) => v.validateModelName(n),
  validateNewModelName: (n: unknown) => v.validateNewModelName(n),
  parseModelVersion: (x: unknown) => v.parseModelVersion(x),
  validateTagName: (k: unknown) => v.validateTagName(k),
  validateTagKey: (k: unknown) => v.validateTagKey(k),
  validateRegisteredModelTag: (k: unknown, x: unknown) => v.validateRegisteredModelTag(k, x),
  validateModelVersionTag: (k: unknown, x: unknown) => v.validateModelVersionTag(k, x),
  validateAliasName: (a: unknown) => v.validateAliasName(a),
  validateAliasNameNotReserved: (a: string) => v.validateAliasNameNotReserved(a),
  canonicalStage: (s: unknown) => v.canonicalStage(s),
  validateArchiveExistingVersions: (s: string, a: boolean) => v.validateArchiveExistingVersions(s, a),
  validateWebhookName: (n: unknown) => v.validateWebhookName(n),
  validateModelVersionSource: (s: string, o: SourceOpts) =>
    v.validateModelVersionSource(s, { ...o, regex: o.regex === undefined ? undefined : new RegExp(o.regex) }),
  validateWebhookUrl: (u: unknown, schemes: string[]) => v.validateWebhookUrl(u, schemes),
  validateWebhookEvents: (e: unknown) => v.validateWebhookEvents(e),
};

const label = (r: Row): string => {
  const a = JSON.stringify(r.args, (_k, x: unknown) =>
    typeof x === 'string' && x.length > 60 ? `${x.slice(0, 20)}…(${x.length} chars)` : x,
  );
  return `${a} → ${r.error === undefined ? 'accepted' : 'rejected'}${r.mlflow ? ' (deliberate difference)' : ''}`;
};

// prettier-ignore
const MLFLOW_TABLE: Record<string, Row[]> = {
  validateModelName: [
    { args: [null], error: "Missing value for required parameter 'name'." },
    { args: [''], error: "Missing value for required parameter 'name'." },
    { args: ['  '], error: "Missing value for required parameter 'name'." },
    { args: ['\u3000'], error: "Missing value for required parameter 'name'." },
    { args: ['\u001c'], error: "Missing value for required parameter 'name'." },
    { args: ['\u0085'], error: "Missing value for required parameter 'name'." },
    { args: ['\ufeff'], ok: true },
    { args: ['m'], ok: true },
    { args: ['My Model-1.0'], ok: true },
    { args: ['a/b'], error: "Invalid model name 'a/b'. Names cannot contain '/' or ':'." },
    { args: ['a:b'], error: "Invalid model name 'a:b'. Names cannot contain '/' or ':'." },
    { args: ['/'], error: "Invalid model name '/'. Names cannot contain '/' or ':'." },
    { args: ['.'], error: badPath('name', '"."', "'.'") },
    { args: ['..'], error: badPath('name', '".."', "'..'") },
    { args: ['..x'], error: badPath('name', '"..x"', "'..x'") },
    { args: ['...x'], error: badPath('name', '"...x"', "'...x'") },
    { args: ['x..'], ok: true },
    { args: ['.hidden'], ok: true },
    { args: ['a\\..\\b'], ok: true },
    { args: ['ünï 模型'], ok: true },
    { args: ["..'q"], error: badPath('name', `"..'q"`, `"..'q"`) },
    { args: [`..'"\n\t\u007f\u200b`], error: badPath('name', `"..'\\"\\n\\t\\u007f\\u200b"`, `'..\\'"\\n\\t\\x7f\\u200b'`) },
    { args: [' m '], ok: true },
    { args: ['%2e%2e'], ok: true },
  ],
  validateNewModelName: [
    { args: [null], error: "Missing value for required parameter 'new_name'." },
    { args: [''], error: "Missing value for required parameter 'new_name'." },
    { args: [' \t'], error: "Missing value for required parameter 'new_name'." },
    { args: ['a/b'], error: "Invalid model name 'a/b'. Names cannot contain '/' or ':'." },
    { args: ['..'], error: badPath('name', '".."', "'..'") },
    { args: ['ok'], ok: true },
    { args: ['a:b'], error: "Invalid model name 'a:b'. Names cannot contain '/' or ':'." },
  ],
  parseModelVersion: [
    { args: ['1'], returns: 1 },
    { args: [' 1 '], returns: 1 },
    { args: ['\t7\n'], returns: 7 },
    { args: ['+1'], returns: 1 },
    { args: ['-1'], returns: -1 },
    { args: ['-0'], returns: 0 },
    { args: ['007'], returns: 7 },
    { args: ['1_0'], returns: 10 },
    { args: ['1__0'], error: "Parameter 'version' must be an integer, got '1__0'." },
    { args: ['_1'], error: "Parameter 'version' must be an integer, got '_1'." },
    { args: ['1_'], error: "Parameter 'version' must be an integer, got '1_'." },
    { args: ['+_1'], error: "Parameter 'version' must be an integer, got '+_1'." },
    { args: ['١٢'], returns: 12 },
    { args: ['𝟏'], returns: 1 },
    { args: ['٣_٤'], returns: 34 },
    { args: ['\u30001\u3000'], returns: 1 },
    { args: ['\u00a02'], returns: 2 },
    { args: ['\u001c1'], error: "Parameter 'version' must be an integer, got '\u001c1'." },
    { args: ['1.0'], error: "Parameter 'version' must be an integer, got '1.0'." },
    { args: ['1e3'], error: "Parameter 'version' must be an integer, got '1e3'." },
    { args: [''], error: "Parameter 'version' must be an integer, got ''." },
    { args: [' '], error: "Parameter 'version' must be an integer, got ' '." },
    { args: ['abc'], error: "Parameter 'version' must be an integer, got 'abc'." },
    { args: ['0x10'], error: "Parameter 'version' must be an integer, got '0x10'." },
    { args: ['–1'], error: "Parameter 'version' must be an integer, got '–1'." },
    { args: ['+-1'], error: "Parameter 'version' must be an integer, got '+-1'." },
    { args: ['- 1'], error: "Parameter 'version' must be an integer, got '- 1'." },
    { args: ['1 2'], error: "Parameter 'version' must be an integer, got '1 2'." },
    { args: ['²'], error: "Parameter 'version' must be an integer, got '²'." },
    { args: ['9007199254740991'], returns: 9007199254740991 },
    { args: ['-9007199254740991'], returns: -9007199254740991 },
  ],
  validateTagName: [
    { args: [null], error: "Missing value for required parameter 'key'." },
    { args: [''], error: badPath('key', '""', "'.'") },
    { args: ['a'], ok: true },
    { args: ['a b'], ok: true },
    { args: ['a:b'], ok: true },
    { args: ['a/b'], ok: true },
    { args: ['a//b'], error: badPath('key', '"a//b"', "'a/b'") },
    { args: ['./a'], error: badPath('key', '"./a"', "'a'") },
    { args: ['/a'], error: badPath('key', '"/a"', "'/a'") },
    { args: ['a/'], error: badPath('key', '"a/"', "'a'") },
    { args: ['..'], error: badPath('key', '".."', "'..'") },
    { args: ['../a'], error: badPath('key', '"../a"', "'../a'") },
    { args: ['a/..'], error: badPath('key', '"a/.."', "'.'") },
    { args: ['a/../b'], error: badPath('key', '"a/../b"', "'b'") },
    { args: ['.'], error: badPath('key', '"."', "'.'") },
    { args: ['a.b'], ok: true },
    { args: ['..a'], error: badPath('key', '"..a"', "'..a'") },
    { args: ['ключ'], ok: true },
    { args: ['日本'], ok: true },
    { args: ['a\n'], ok: true },
    { args: ['\n'], ok: true },
    { args: ['a\nb'], error: badChars('"a\\nb"') },
    { args: ['a$'], error: badChars('"a$"') },
    { args: ['a\\b'], error: badChars('"a\\\\b"') },
    { args: ['a%2e'], error: badChars('"a%2e"') },
    { args: ['😀'], error: badChars('"\\ud83d\\ude00"') },
    { args: ['á'], error: badChars('"a\\u0301"') },
    { args: ['٣'], ok: true },
    { args: ['ǅ'], ok: true },
    { args: ['²'], ok: true },
    { args: ['Ⅻ'], ok: true },
    { args: ['mlflow.prompt.text'], ok: true },
    { args: ['a\t'], error: badChars('"a\\t"') },
    { args: ['x'.repeat(300)], ok: true },
  ],
  validateTagKey: [
    { args: ['x'.repeat(250)], ok: true },
    { args: ['x'.repeat(251)], error: "'key' exceeds the maximum length of 250 characters" },
    { args: ['é'.repeat(250)], ok: true },
    { args: ['é'.repeat(251)], error: "'key' exceeds the maximum length of 250 characters" },
    { args: ['𝟏'.repeat(250)], ok: true },
    { args: ['/x'], error: badPath('key', '"/x"', "'/x'") },
    { args: ['x'.repeat(251) + '/'], error: badPath('key', '"' + 'x'.repeat(251) + '/"', "'" + 'x'.repeat(251) + "'") },
  ],
  validateRegisteredModelTag: [
    { args: ['k', 'v'], ok: true },
    { args: ['k', ''], ok: true },
    { args: ['k', null], ok: true },
    { args: ['k', 'x'.repeat(100000)], ok: true },
    { args: ['k', 'x'.repeat(100001)], error: "'value' exceeds the maximum length of 100000 characters" },
    { args: ['k', 'é'.repeat(100000)], ok: true },
    { args: ['x'.repeat(251), null], error: "'key' exceeds the maximum length of 250 characters" },
    { args: ['a//b', 'v'], error: badPath('key', '"a//b"', "'a/b'") },
    { args: ['mlflow.prompt.text', 'x'.repeat(100001)], error: "'value' exceeds the maximum length of 100000 characters" },
    { args: [null, 'v'], error: "Missing value for required parameter 'key'." },
  ],
  validateModelVersionTag: [
    { args: ['k', 'v'], ok: true },
    { args: ['k', ''], ok: true },
    { args: ['k', null], error: 'Tag value cannot be None' },
    { args: ['x'.repeat(251), null], error: 'Tag value cannot be None' },
    { args: ['x'.repeat(251), 'v'], error: "'key' exceeds the maximum length of 250 characters" },
    { args: ['k', 'x'.repeat(100000)], ok: true },
    { args: ['k', 'x'.repeat(100001)], error: "'value' exceeds the maximum length of 100000 characters" },
    { args: ['mlflow.prompt.text', 'x'.repeat(100000)], ok: true },
    { args: ['mlflow.prompt.text', 'x'.repeat(100001)], error: 'Prompt text exceeds max length of 100000 characters.' },
    { args: ['mlflow.prompt.is_prompt', 'true'], ok: true },
    { args: ['/k', null], error: badPath('key', '"/k"', "'/k'") },
  ],
  validateAliasName: [
    { args: [null], error: 'Registered model alias name cannot be empty.' },
    { args: [''], error: 'Registered model alias name cannot be empty.' },
    { args: ['a'], ok: true },
    { args: ['champion'], ok: true },
    { args: ['a-b_c'], ok: true },
    { args: ['a b'], error: "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-)." },
    { args: ['a.b'], error: "Invalid alias name: 'a.b'. Names may only contain alphanumerics, underscores (_), and dashes (-)." },
    { args: ['a/b'], error: "Invalid alias name: 'a/b'. Names may only contain alphanumerics, underscores (_), and dashes (-)." },
    { args: ['a\n'], ok: true },
    { args: ['\n'], ok: true },
    { args: ['ünï'], ok: true },
    { args: ['á'], error: "Invalid alias name: 'á'. Names may only contain alphanumerics, underscores (_), and dashes (-)." },
    { args: ['x'.repeat(255)], ok: true },
    { args: ['x'.repeat(256)], error: "'Registered model alias name' exceeds the maximum length of 255 characters" },
    { args: ['latest'], ok: true },
    { args: ['v1'], ok: true },
  ],
  validateAliasNameNotReserved: [
    { args: ['latest'], error: "'latest' alias name (case insensitive) is reserved." },
    { args: ['LATEST'], error: "'latest' alias name (case insensitive) is reserved." },
    { args: ['Latest'], error: "'latest' alias name (case insensitive) is reserved." },
    { args: ['latest1'], ok: true },
    { args: ['v1'], error: "Version alias name 'v1' is reserved." },
    { args: ['V12'], error: "Version alias name 'V12' is reserved." },
    { args: ['v'], ok: true },
    { args: ['v1a'], ok: true },
    { args: ['v١'], error: "Version alias name 'v١' is reserved." },
    { args: ['v1\n'], error: "Version alias name 'v1\n' is reserved." },
    { args: ['ver1'], ok: true },
    { args: ['vv1'], ok: true },
    { args: ['champion'], ok: true },
    { args: ['v-1'], ok: true },
  ],
  canonicalStage: [
    { args: ['none'], returns: 'None' },
    { args: ['NONE'], returns: 'None' },
    { args: ['None'], returns: 'None' },
    { args: ['Staging'], returns: 'Staging' },
    { args: ['production'], returns: 'Production' },
    { args: ['ARCHIVED'], returns: 'Archived' },
    { args: ['sTaGiNg'], returns: 'Staging' },
    { args: [''], error: 'Invalid Model Version stage: . Value must be one of None, Staging, Production, Archived.' },
    { args: ['foo'], error: 'Invalid Model Version stage: foo. Value must be one of None, Staging, Production, Archived.' },
    { args: ['Deleted_Internal'], error: 'Invalid Model Version stage: Deleted_Internal. Value must be one of None, Staging, Production, Archived.' },
    { args: [' staging'], error: 'Invalid Model Version stage:  staging. Value must be one of None, Staging, Production, Archived.' },
    { args: ['Production '], error: 'Invalid Model Version stage: Production . Value must be one of None, Staging, Production, Archived.' },
  ],
  validateArchiveExistingVersions: [
    { args: ['Staging', true], ok: true },
    { args: ['production', true], ok: true },
    { args: ['None', true], error: "Model version transition cannot archive existing model versions because 'None' is not an Active stage. Valid stages are ['Staging', 'Production']", mlflow: '500 INTERNAL_ERROR with this message' },
    { args: ['archived', true], error: "Model version transition cannot archive existing model versions because 'archived' is not an Active stage. Valid stages are ['Staging', 'Production']", mlflow: '500 INTERNAL_ERROR with this message' },
    { args: ['none', false], ok: true },
    { args: ['Archived', false], ok: true },
    { args: ['foo', false], error: 'Invalid Model Version stage: foo. Value must be one of None, Staging, Production, Archived.' },
    { args: ['foo', true], error: 'Invalid Model Version stage: foo. Value must be one of None, Staging, Production, Archived.' },
  ],
  validateWebhookName: [
    { args: ['a'], ok: true },
    { args: ['A'], ok: true },
    { args: ['1'], ok: true },
    { args: ['my-hook.v1_x'], ok: true },
    { args: ['a..b'], ok: true },
    { args: ['-a'], error: badWebhookName("'-a'") },
    { args: ['a-'], error: badWebhookName("'a-'") },
    { args: ['_a'], error: badWebhookName("'_a'") },
    { args: ['a.'], error: badWebhookName("'a.'") },
    { args: [''], error: badWebhookName("''") },
    { args: ['a'.repeat(63)], ok: true },
    { args: ['a'.repeat(64)], error: badWebhookName("'" + 'a'.repeat(64) + "'") },
    { args: ['a b'], error: badWebhookName("'a b'") },
    { args: ['a\n'], error: badWebhookName("'a\\n'") },
    { args: ['ünï'], error: badWebhookName("'ünï'") },
    { args: ['İ'], ok: true },
    { args: ['K'], ok: true },
    { args: ['ſ'], ok: true },
    { args: ['ıx'], ok: true },
    { args: ["a'b"], error: badWebhookName(`"a'b"`) },
    { args: [5], error: "Webhook name must be a string, got 'int'" },
    { args: [null], error: "Webhook name must be a string, got 'NoneType'" },
    { args: [['a']], error: "Webhook name must be a string, got 'list'" },
  ],
  validateModelVersionSource: [
    { args: ['/etc/passwd', { isPrompt: false }], error: local('/etc/passwd') },
    { args: ['etc/passwd', { isPrompt: false }], error: local('etc/passwd') },
    { args: ['model', { isPrompt: false }], error: local('model') },
    { args: ['./model', { isPrompt: false }], error: local('./model') },
    { args: ['../model', { isPrompt: false }], error: local('../model') },
    { args: ['~/model', { isPrompt: false }], error: local('~/model') },
    { args: ['file:///etc/passwd', { isPrompt: false }], error: local('file:///etc/passwd') },
    { args: ['file:/etc/passwd', { isPrompt: false }], error: local('file:/etc/passwd') },
    { args: ['FILE:///etc/passwd', { isPrompt: false }], error: local('FILE:///etc/passwd') },
    { args: ['file://localhost/etc/passwd', { isPrompt: false }], error: local('file://localhost/etc/passwd') },
    { args: ['file://127.0.0.1/etc/passwd', { isPrompt: false }], error: local('file://127.0.0.1/etc/passwd') },
    { args: ['file://./etc/passwd', { isPrompt: false }], error: local('file://./etc/passwd') },
    { args: ['file://localhost.evil.com/x', { isPrompt: false }], error: local('file://localhost.evil.com/x') },
    { args: ['file://remote/x', { isPrompt: false }], error: 'file://remote/x is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).', mlflow: '500 INTERNAL_ERROR with this message' },
    { args: ['file://remote.host:80/x', { isPrompt: false }], error: 'file://remote.host:80/x is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).', mlflow: '500 INTERNAL_ERROR with this message' },
    { args: ['file://user@remote/x', { isPrompt: false }], error: 'file://user@remote/x is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).', mlflow: '500 INTERNAL_ERROR with this message' },
    { args: ['/tmp/mlruns/0/abc/artifacts/model', { isPrompt: false }], error: local('/tmp/mlruns/0/abc/artifacts/model') },
    { args: ['prompt-template', { isPrompt: false }], error: local('prompt-template') },
    { args: ['dummy-source', { isPrompt: false }], error: local('dummy-source') },
    { args: ['', { isPrompt: false }], error: local('') },
    { args: ['\\\\server\\share\\x', { isPrompt: false }], error: local('\\\\server\\share\\x') },
    { args: ['%2Fetc%2Fpasswd', { isPrompt: false }], error: local('%2Fetc%2Fpasswd') },
    // With an id MLflow looks the run/logged model up; we have none, so it answers as for an unknown one.
    { args: ['/etc/passwd', { isPrompt: false, modelId: 'm-123' }], error: "Invalid model version source: '/etc/passwd'. The model_id request parameter must identify the resource that contains the source." },
    { args: ['s3://bucket/path/model', { isPrompt: false }], ok: true },
    { args: ['s3://bucket/a//b', { isPrompt: false }], ok: true },
    { args: ['s3://bucket/a/', { isPrompt: false }], ok: true },
    { args: ['s3://bucket/a+b', { isPrompt: false }], ok: true },
    { args: ['s3://b/x#frag', { isPrompt: false }], ok: true },
    { args: ['s3://b/x?versionId=1', { isPrompt: false }], ok: true },
    { args: ['s3://b/...', { isPrompt: false }], ok: true },
    { args: ['s3://b/ab..cd', { isPrompt: false }], ok: true },
    { args: ['runs:/abc123/model', { isPrompt: false }], ok: true },
    { args: ['models:/m/1', { isPrompt: false }], ok: true },
    { args: ['mlflow-artifacts:/models/', { isPrompt: false }], ok: true },
    { args: ['mlflow-artifacts:/models///', { isPrompt: false }], ok: true },
    { args: ['mlflow-artifacts:/models/foo///bar', { isPrompt: false }], ok: true },
    { args: ['mlflow-artifacts://host:9000/models/artifact/..../', { isPrompt: false }], ok: true },
    { args: ['gs://b/%C0%AE%C0%AE/x', { isPrompt: false }], ok: true },
    { args: ['gs://b/%E2%80%A4%E2%80%A4/x', { isPrompt: false }], ok: true },
    { args: ['https://h/%u002e%u002e/x', { isPrompt: false }], ok: true },
    { args: [' s3://b/x', { isPrompt: false }], ok: true },
    { args: ['C:/x', { isPrompt: false }], ok: true },
    { args: ['http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/1/m', { isPrompt: false }], ok: true },
    { args: ['dbfs:/databricks/mlflow/1/model', { isPrompt: false }], ok: true },
    { args: ['s3://bucket/models/../../../etc', { isPrompt: false }], error: nonLocal('s3://bucket/models/../../../etc') },
    { args: ['mlflow-artifacts:/models/../../../', { isPrompt: false }], error: nonLocal('mlflow-artifacts:/models/../../../') },
    { args: ['http://host:5000/api/2.0/mlflow-artifacts/artifacts/../../../../', { isPrompt: false }], error: nonLocal('http://host:5000/api/2.0/mlflow-artifacts/artifacts/../../../../') },
    { args: ['https://host/api/2.0/mlflow-artifacts/artifacts/../../../../', { isPrompt: false }], error: nonLocal('https://host/api/2.0/mlflow-artifacts/artifacts/../../../../') },
    { args: ['s3:/my_bucket/models/path/../../other/path', { isPrompt: false }], error: nonLocal('s3:/my_bucket/models/path/../../other/path') },
    { args: ['mlflow-artifacts://host:9000/models/..%2f..%2f..%2f..%2f', { isPrompt: false }], error: nonLocal('mlflow-artifacts://host:9000/models/..%2f..%2f..%2f..%2f') },
    { args: ['mlflow-artifacts:/models/..%2F..%2Fartifacts', { isPrompt: false }], error: nonLocal('mlflow-artifacts:/models/..%2F..%2Fartifacts') },
    { args: ['s3://bucket/models/%2e%2e/%2e%2e/etc', { isPrompt: false }], error: nonLocal('s3://bucket/models/%2e%2e/%2e%2e/etc') },
    { args: ['s3://bucket/models/%2E%2E/x', { isPrompt: false }], error: nonLocal('s3://bucket/models/%2E%2E/x') },
    { args: ['s3://bucket/models/%252e%252e/%252e%252e/etc', { isPrompt: false }], error: nonLocal('s3://bucket/models/%252e%252e/%252e%252e/etc') },
    { args: ['s3://bucket/models/%25252e%25252e/x', { isPrompt: false }], error: nonLocal('s3://bucket/models/%25252e%25252e/x') },
    { args: ['s3://bucket/models/.%2e/x', { isPrompt: false }], error: nonLocal('s3://bucket/models/.%2e/x') },
    { args: ['s3://bucket/%2e', { isPrompt: false }], error: nonLocal('s3://bucket/%2e') },
    { args: ['s3://bucket/a/.', { isPrompt: false }], error: nonLocal('s3://bucket/a/.') },
    { args: ['s3://bucket/./a', { isPrompt: false }], error: nonLocal('s3://bucket/./a') },
    { args: ['s3://bucket/a/..', { isPrompt: false }], error: nonLocal('s3://bucket/a/..') },
    { args: ['http://host/api/2.0/mlflow-artifacts/artifacts%00', { isPrompt: false }], error: nonLocal('http://host/api/2.0/mlflow-artifacts/artifacts%00') },
    { args: ['s3://bucket/x%00', { isPrompt: false }], error: nonLocal('s3://bucket/x%00') },
    { args: ['s3://bucket/x%2500', { isPrompt: false }], error: nonLocal('s3://bucket/x%2500') },
    { args: ['s3://bucket/a\u0000b', { isPrompt: false }], error: nonLocal('s3://bucket/a\u0000b') },
    { args: ['s3://b/x#/../../etc', { isPrompt: false }], error: nonLocal('s3://b/x#/../../etc') },
    { args: ['http://h/a/..#x', { isPrompt: false }], error: nonLocal('http://h/a/..#x') },
    { args: ['http://h/a?/../../x', { isPrompt: false }], error: nonLocal('http://h/a?/../../x') },
    { args: ['http://h/a/..;p', { isPrompt: false }], error: nonLocal('http://h/a/..;p') },
    { args: ['http://h/a/..?q', { isPrompt: false }], error: nonLocal('http://h/a/..?q') },
    { args: ['s3://b/a/.\n./x', { isPrompt: false }], error: nonLocal('s3://b/a/.\n./x') },
    { args: ['https://h/a%2F..%2Fb', { isPrompt: false }], error: nonLocal('https://h/a%2F..%2Fb') },
    { args: ['https://h/a/..+/b', { isPrompt: false }], ok: true },
    { args: ['ftp://h/a/../b', { isPrompt: false }], error: nonLocal('ftp://h/a/../b') },
    { args: ['hdfs://h/../etc', { isPrompt: false }], error: nonLocal('hdfs://h/../etc') },
    { args: ['s3://bucket', { isPrompt: false }], error: nonLocal('s3://bucket') },
    { args: ['s3://bucket/', { isPrompt: false }], error: nonLocal('s3://bucket/') },
    { args: ['runs:abc', { isPrompt: false }], error: nonLocal('runs:abc') },
    { args: ['databricks', { isPrompt: false }], error: nonLocal('databricks') },
    { args: ['models:name/1', { isPrompt: false }], error: nonLocal('models:name/1') },
    { args: ['s3://b/a/%2e%2e%2f%2e%2e%2fetc', { isPrompt: false }], error: nonLocal('s3://b/a/%2e%2e%2f%2e%2e%2fetc') },
    { args: ['s3://b/a\\..\\..\\etc', { isPrompt: false }], error: nonLocal('s3://b/a\\..\\..\\etc'), mlflow: 'accepted (MLflow on Linux)' },
    { args: ['s3://b/a/%5c..%5c..%5cetc', { isPrompt: false }], error: nonLocal('s3://b/a/%5c..%5c..%5cetc'), mlflow: 'accepted (MLflow on Linux)' },
    { args: ['s3://b/a/..\\x', { isPrompt: false }], error: nonLocal('s3://b/a/..\\x'), mlflow: 'accepted (MLflow on Linux)' },
    { args: ['s3://b%00/x', { isPrompt: false }], error: nonLocal('s3://b%00/x'), mlflow: 'accepted (MLflow on Linux)' },
    { args: ['http://[abc/x', { isPrompt: false }], error: nonLocal('http://[abc/x'), mlflow: '500 (unhandled ValueError: Invalid IPv6 URL)' },
    { args: ['s3://%5Bx/y', { isPrompt: false }], error: nonLocal('s3://%5Bx/y'), mlflow: '500 (unhandled ValueError: Invalid IPv6 URL)' },
    { args: ['prompt-template', { isPrompt: true }], ok: true },
    { args: ['dummy-source', { isPrompt: true }], ok: true },
    { args: ['s3://b/x', { isPrompt: true }], error: "Invalid prompt source: 's3://b/x'. Prompt sources must use an MLflow placeholder." },
    { args: ['/etc/passwd', { isPrompt: true }], error: "Invalid prompt source: '/etc/passwd'. Prompt sources must use an MLflow placeholder." },
    { args: ['file:///etc/passwd', { isPrompt: true }], error: "Invalid prompt source: 'file:///etc/passwd'. Prompt sources must use an MLflow placeholder." },
    { args: ['prompt-template ', { isPrompt: true }], error: "Invalid prompt source: 'prompt-template '. Prompt sources must use an MLflow placeholder." },
    { args: ['Prompt-Template', { isPrompt: true }], error: "Invalid prompt source: 'Prompt-Template'. Prompt sources must use an MLflow placeholder." },
    { args: ['', { isPrompt: true }], error: "Invalid prompt source: ''. Prompt sources must use an MLflow placeholder." },
    { args: ['mlflow-artifacts:/../../etc', { isPrompt: true }], error: "Invalid prompt source: 'mlflow-artifacts:/../../etc'. Prompt sources must use an MLflow placeholder." },
    { args: ['s3://b/x', { isPrompt: false, regex: '^s3://' }], ok: true },
    { args: ['gs://b/x', { isPrompt: false, regex: '^s3://' }], error: "Invalid model version source: 'gs://b/x'." },
    { args: ['s3://b/x', { isPrompt: false, regex: 'b/x' }], ok: true },
    { args: ['s3://b/../x', { isPrompt: false, regex: '^s3://' }], error: nonLocal('s3://b/../x') },
    { args: ['/etc/passwd', { isPrompt: false, regex: '.*' }], error: local('/etc/passwd') },
    { args: ['prompt-template', { isPrompt: true, regex: '^s3://' }], error: "Invalid model version source: 'prompt-template'." },
    { args: ['prompt-template', { isPrompt: true, regex: '^(s3://|prompt-template$)' }], ok: true },
    { args: ['', { isPrompt: false, regex: '^s3://' }], error: local('') },
  ],
  validateWebhookUrl: [
    { args: [5, ['https']], error: "Webhook URL must be a string, got 'int'" },
    { args: [null, ['https']], error: "Webhook URL must be a string, got 'NoneType'" },
    { args: ['', ['https']], error: "Webhook URL cannot be empty or just whitespace: ''" },
    { args: ['   ', ['https']], error: "Webhook URL cannot be empty or just whitespace: '   '" },
    { args: ['https://h.example/x', ['https']], ok: true },
    { args: ['HTTPS://h.example/x', ['https']], ok: true },
    { args: ['http://h.example/x', ['https']], error: "Invalid webhook URL scheme: 'http'. Allowed schemes are: https." },
    { args: ['http://h.example/x', ['https', 'http']], ok: true },
    { args: ['ftp://h/x', ['https', 'http']], error: "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: https, http." },
    { args: ['h.example/x', ['https']], error: "Invalid webhook URL scheme: ''. Allowed schemes are: https." },
    { args: ['//h.example/x', ['https']], error: "Invalid webhook URL scheme: ''. Allowed schemes are: https." },
    { args: ['mailto:a@b', ['https']], error: "Invalid webhook URL scheme: 'mailto'. Allowed schemes are: https." },
    { args: ['https:///x', ['https']], error: "Webhook URL must include a hostname: 'https:///x'" },
    { args: ['https://user@/x', ['https']], error: "Webhook URL must include a hostname: 'https://user@/x'" },
    { args: ['https://:443/x', ['https']], error: "Webhook URL must include a hostname: 'https://:443/x'" },
    { args: ['https://[abc/x', ['https']], error: "Invalid webhook URL 'https://[abc/x': ValueError('Invalid IPv6 URL')" },
    { args: ['https://abc]/x', ['https']], error: "Invalid webhook URL 'https://abc]/x': ValueError('Invalid IPv6 URL')" },
    { args: ['https://[::1]:8443/x', ['https']], ok: true },
    { args: ['https://[1.2.3.4]/x', ['https']], error: "Invalid webhook URL 'https://[1.2.3.4]/x': ValueError('An IPv4 address cannot be in brackets')" },
    { args: ['https://[zzz]/x', ['https']], error: `Invalid webhook URL 'https://[zzz]/x': ValueError("'zzz' does not appear to be an IPv4 or IPv6 address")` },
    { args: ['https://[v1.x]/x', ['https']], ok: true },
    { args: ['https://[vz.x]/x', ['https']], error: "Invalid webhook URL 'https://[vz.x]/x': ValueError('IPvFuture address is invalid')" },
    { args: ['https://[fe80::1%25eth0]/x', ['https']], ok: true },
    { args: ['https://h℀/x', ['https']], error: `Invalid webhook URL 'https://h℀/x': ValueError("netloc 'h℀' contains invalid characters under NFKC normalization")` },
    { args: ['https://h.example:99999/x', ['https']], ok: true },
    { args: ['https://H.Example/x', ['HTTPS']], error: "Invalid webhook URL scheme: 'https'. Allowed schemes are: HTTPS." },
    { args: [' https://h/x', ['https']], ok: true },
    { args: ["https://h/x'y", ['http']], error: "Invalid webhook URL scheme: 'https'. Allowed schemes are: http." },
  ],
  validateWebhookEvents: [
    { args: [[]], error: 'Webhook events must be a non-empty list of WebhookEvent objects: [].' },
    { args: [null], error: 'Webhook events must be a non-empty list of WebhookEvent objects: None.' },
    { args: [[{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]], ok: true },
    { args: [[{ entity: 'REGISTERED_MODEL', action: 'UPDATED' }]], error: "Invalid action 'updated' for entity 'registered_model'. Valid actions are: ['created']" },
    { args: [[{ entity: 'MODEL_VERSION_TAG', action: 'CREATED' }]], error: "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: ['deleted', 'set']" },
    { args: [[{ entity: 'MODEL_VERSION_TAG', action: 'SET' }, { entity: 'MODEL_VERSION_TAG', action: 'DELETED' }]], ok: true },
    { args: [[{ entity: 'PROMPT_ALIAS', action: 'SET' }]], error: "Invalid action 'set' for entity 'prompt_alias'. Valid actions are: ['created', 'deleted']" },
    { args: [[{ entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }, { entity: 'PROMPT', action: 'DELETED' }]], error: "Invalid action 'deleted' for entity 'prompt'. Valid actions are: ['created']" },
    { args: [[{ entity: 'BUDGET_POLICY', action: 'EXCEEDED' }]], ok: true },
    { args: [[{ entity: 'MODEL_VERSION', action: 'EXCEEDED' }]], error: "Invalid action 'exceeded' for entity 'model_version'. Valid actions are: ['created']" },
    { args: [[{ entity: 'BUDGET_POLICY', action: 'CREATED' }]], error: "Invalid action 'created' for entity 'budget_policy'. Valid actions are: ['exceeded']" },
    { args: [[{ entity: 'model_version', action: 'created' }]], ok: true },
    { args: [[{ entity: 'PROMPT_VERSION_TAG', action: 'DELETED' }]], ok: true },
    { args: [[{ entity: 'PROMPT_VERSION', action: 'UPDATED' }]], error: "Invalid action 'updated' for entity 'prompt_version'. Valid actions are: ['created']" },
  ],
};

describe('MLflow parity table', () => {
  for (const [fn, rows] of Object.entries(MLFLOW_TABLE)) {
    describe(fn, () => {
      it.each(rows.map((r) => [label(r), r] as const))('%s', (_label, r) => {
        const f = FNS[fn]!;
        if (r.error !== undefined) {
          expectInvalid(() => f(...r.args), r.error);
        } else if ('returns' in r) {
          expect(f(...r.args)).toBe(r.returns);
        } else {
          expect(() => f(...r.args)).not.toThrow();
        }
      });
    });
  }
});

describe('mistyped values (the handler schema messages, checked against MLflow REST answers)', () => {
  it.each([
    ['validateModelName', () => v.validateModelName(5), wrongType('name', '5', 'int')],
    ['validateNewModelName', () => v.validateNewModelName(true), wrongType('new_name', 'true', 'bool')],
    ['validateTagKey', () => v.validateTagKey(5), wrongType('key', '5', 'int')],
    ['validateRegisteredModelTag float', () => v.validateRegisteredModelTag('k', 1.5), wrongType('value', '1.5', 'float')],
    ['validateRegisteredModelTag list', () => v.validateRegisteredModelTag('k', ['é']), wrongType('value', '["\\u00e9"]', 'list')],
    ['validateModelVersionTag dict', () => v.validateModelVersionTag('k', { b: 1, a: 'x' }), wrongType('value', '{"a":"x","b":1}', 'dict')],
    ['validateAliasName', () => v.validateAliasName(5), wrongType('alias', '5', 'int')],
    [
      'validateWebhookEvents dict',
      () => v.validateWebhookEvents({ entity: 'MODEL_VERSION', action: 'CREATED' }),
      wrongType('events', '{"action":"CREATED","entity":"MODEL_VERSION"}', 'dict'),
    ],
  ] as const)('%s', (_name, f, message) => expectInvalid(f, message));
});

describe('parseModelVersion beyond the table', () => {
  it('takes a custom parameter name', () => {
    expectInvalid(() => v.parseModelVersion('x', 'model_version'), "Parameter 'model_version' must be an integer, got 'x'.");
  });
  it('treats an absent version like the protobuf default ""', () => {
    expectInvalid(() => v.parseModelVersion(undefined), "Parameter 'version' must be an integer, got ''.");
    expectInvalid(() => v.parseModelVersion(null), "Parameter 'version' must be an integer, got ''.");
  });
  it('accepts integral numbers and rejects other numbers', () => {
    expect(v.parseModelVersion(3)).toBe(3);
    expect(Object.is(v.parseModelVersion(-0), 0)).toBe(true);
    expectInvalid(() => v.parseModelVersion(1.5), "Parameter 'version' must be an integer, got '1.5'.");
  });
  it('never returns -0', () => {
    expect(Object.is(v.parseModelVersion('-0'), 0)).toBe(true);
  });
  // Deliberate: Python int() takes these; MLflow then answers 404, or 500 "Python int too large to
  // convert to SQLite INTEGER" past 2^63 (checked through the REST handler).
  it.each(['9007199254740992', '-9007199254740992', '99999999999999999999', '1'.repeat(5000)])(
    'rejects %s, which a JS number cannot hold exactly (deliberate difference)',
    (s) => expectInvalid(() => v.parseModelVersion(s), `Parameter 'version' must be an integer, got '${s}'.`),
  );
});

describe('canonicalStage / STAGES', () => {
  it('lists the stages in MLflow order', () => {
    expect(v.STAGES).toEqual(['None', 'Staging', 'Production', 'Archived']);
  });
  it('rejects non-strings with the stage message', () => {
    expectInvalid(() => v.canonicalStage(undefined), 'Invalid Model Version stage: None. Value must be one of None, Staging, Production, Archived.');
    expectInvalid(() => v.canonicalStage(3), 'Invalid Model Version stage: 3. Value must be one of None, Staging, Production, Archived.');
  });
});

describe('validateTagName vs validateTagKey', () => {
  it('only validateTagKey applies the 250 limit (MLflow delete-tag paths use _validate_tag_name alone)', () => {
    expect(() => v.validateTagName('x'.repeat(251))).not.toThrow();
    expectInvalid(() => v.validateTagKey('x'.repeat(251)), "'key' exceeds the maximum length of 250 characters");
  });
  it('counts code points, not UTF-16 units', () => {
    expect(() => v.validateTagKey('\u{1d7cf}'.repeat(250))).not.toThrow();
    expect(() => v.validateAliasName('\u{10400}'.repeat(255))).not.toThrow();
    expectInvalid(
      () => v.validateAliasName('\u{10400}'.repeat(256)),
      "'Registered model alias name' exceeds the maximum length of 255 characters",
    );
  });
  it('uses Node Unicode tables: a letter added in Unicode 15 is a word character here (documented difference)', () => {
    expect(() => v.validateTagKey('\u{1e4d0}')).not.toThrow(); // NAG MUNDARI LETTER O, unassigned in Python 3.11
  });
});

describe('validateModelVersionSource: traversal payloads from the advisories, under every scheme', () => {
  // MLflow's _validate_non_local_source_contains_relative_paths rejects all of these too, except the
  // two backslash payloads, which MLflow on Linux accepts (deliberate difference).
  const payloads = [
    '../../../etc/passwd',
    '..%2f..%2fetc%2fpasswd',
    '..%2F..%2Fetc',
    '%2e%2e/%2e%2e/etc',
    '%2E%2E%2F%2E%2E%2Fetc',
    '%252e%252e/%252e%252e/etc',
    '%25252e%25252e%25252fetc',
    '.%2e/x',
    'x/%2e%2e',
    'x/..',
    'x/.',
    './x',
    'x%00',
    'x%2500',
    'x\u0000y',
    '..\\..\\etc',
    'x%5c..%5c..%5cetc',
    'x/..#frag',
    'x/..?q=1',
    'x#/../../etc',
    'x?/../../etc',
  ];
  const prefixes = ['s3://bucket/m/', 'gs://b/m/', 'mlflow-artifacts:/m/', 'mlflow-artifacts://h:9000/m/', 'https://h/api/2.0/mlflow-artifacts/artifacts/m/', 'runs:/0123abcd/m/', 'models:/m/', 'hdfs://h/m/', 'dbfs:/m/'];
  const cases = prefixes.flatMap((p) => payloads.map((x) => p + x));
  it.each(cases)('rejects %s', (source) => expectInvalid(() => v.validateModelVersionSource(source, { isPrompt: false }), nonLocal(source)));

  it('follows urlparse: ";params" are split off only for http-like schemes (MLflow parity)', () => {
    expectInvalid(() => v.validateModelVersionSource('https://h/m/x/..;p', { isPrompt: false }), nonLocal('https://h/m/x/..;p'));
    expect(() => v.validateModelVersionSource('s3://bucket/m/x/..;p', { isPrompt: false })).not.toThrow(); // a literal "..;p" key
  });

  const localSources = ['/etc/passwd', 'file:///etc/passwd', 'file:/etc/passwd', 'file://localhost/etc/passwd', 'etc/passwd', '../x', '~/.ssh/id_rsa', 'mlruns/0/abc/artifacts/model', 'prompt-template', 'dummy-source', '%2Fetc%2Fpasswd'];
  it.each(localSources)('rejects local source %s (no tracking store: never provably inside a run)', (source) =>
    expectInvalid(() => v.validateModelVersionSource(source, { isPrompt: false }), local(source)),
  );
  it('answers as MLflow does for an unknown run or logged model when an id is given', () => {
    expectInvalid(() => v.validateModelVersionSource('/x', { isPrompt: false, modelId: 'm-1' }), "Invalid model version source: '/x'. The model_id request parameter must identify the resource that contains the source.");
    expectInvalid(() => v.validateModelVersionSource('/x', { isPrompt: false, runId: 'r1' }), "Invalid model version source: '/x'. The run_id request parameter must identify the resource that contains the source.");
    expectInvalid(() => v.validateModelVersionSource('file:///x', { isPrompt: false, runId: 'r1' }), "Invalid model version source: 'file:///x'. The run_id request parameter must identify the resource that contains the source.");
  });
});

describe('validateModelVersionSource: prompts (CVE-2026-2614)', () => {
  it.each(['prompt-template', 'dummy-source'])('accepts the placeholder %s for a prompt', (source) => {
    expect(() => v.validateModelVersionSource(source, { isPrompt: true })).not.toThrow();
  });
  it.each(['/etc/passwd', 'file:///etc/passwd', 's3://b/x', 'mlflow-artifacts:/../../etc', 'prompt-template/../x', ' prompt-template', 'PROMPT-TEMPLATE', ''])(
    'rejects %j for a prompt: the prompt tag no longer bypasses source checks',
    (source) =>
      expectInvalid(
        () => v.validateModelVersionSource(source, { isPrompt: true }),
        `Invalid prompt source: '${source}'. Prompt sources must use an MLflow placeholder.`,
      ),
  );
  it('still applies the operator regex to prompts first, as MLflow does', () => {
    expectInvalid(
      () => v.validateModelVersionSource('prompt-template', { isPrompt: true, regex: /^s3:\/\// }),
      "Invalid model version source: 'prompt-template'.",
    );
  });
});

describe('validateModelVersionSource: regex option', () => {
  it('uses re.search semantics and is not stateful with a g/y flag', () => {
    const regex = /bucket/g;
    for (let i = 0; i < 3; i++) expect(() => v.validateModelVersionSource('s3://bucket/m', { isPrompt: false, regex })).not.toThrow();
    expect(() => v.validateModelVersionSource('s3://bucket/m', { isPrompt: false, regex: /bucket/y })).not.toThrow();
  });
  it('is skipped for an empty source (MLflow: `if request_message.source and regex`)', () => {
    expectInvalid(() => v.validateModelVersionSource('', { isPrompt: false, regex: /^s3:/ }), local(''));
  });
});

describe('isPromptRequest (_is_prompt_request)', () => {
  const k = 'mlflow.prompt.is_prompt';
  it.each([
    [[], false],
    [[{ key: k, value: 'true' }], true],
    [[{ key: k, value: 'TRUE' }], true],
    [[{ key: k, value: 'True' }], true],
    [[{ key: k, value: 'false' }], false],
    [[{ key: k, value: 'yes' }], false],
    [[{ key: k, value: '' }], false],
    [[{ key: k }], false],
    [[{ key: k, value: 'true' }, { key: k, value: 'false' }], false],
    [[{ key: k, value: 'false' }, { key: k, value: 'true' }], true],
    [[{ key: 'other', value: 'true' }], false],
  ] as const)('%j → %s', (tags, expected) => expect(v.isPromptRequest(tags)).toBe(expected));
});

describe('validateWebhookEvents beyond the table', () => {
  it('accepts lower-case values too', () => {
    expect(() => v.validateWebhookEvents([{ entity: 'prompt_alias', action: 'deleted' }])).not.toThrow();
  });
  // Deliberate: over REST MLflow drops an unknown enum name, then WebhookEntity/WebhookAction.from_proto
  // raise ValueError, which is a 500 (checked through the REST handler).
  it('rejects an unknown entity with 400 (deliberate difference)', () => {
    expectInvalid(
      () => v.validateWebhookEvents([{ entity: 'FOO', action: 'CREATED' }]),
      "Invalid webhook event entity: \"FOO\". Valid entities are: ['registered_model', 'model_version', 'model_version_tag', 'model_version_alias', 'prompt', 'prompt_version', 'prompt_tag', 'prompt_version_tag', 'prompt_alias', 'budget_policy']",
    );
    expectInvalid(
      () => v.validateWebhookEvents([{ entity: 'Model_Version', action: 'CREATED' }]),
      "Invalid webhook event entity: \"Model_Version\". Valid entities are: ['registered_model', 'model_version', 'model_version_tag', 'model_version_alias', 'prompt', 'prompt_version', 'prompt_tag', 'prompt_version_tag', 'prompt_alias', 'budget_policy']",
    );
  });
  it('rejects a missing or unknown action with 400 (deliberate difference)', () => {
    const msg = (shown: string): string =>
      `Invalid webhook event action: ${shown}. Valid actions are: ['created', 'updated', 'deleted', 'set', 'exceeded']`;
    expectInvalid(() => v.validateWebhookEvents([{ entity: 'MODEL_VERSION' }]), msg('null'));
    expectInvalid(() => v.validateWebhookEvents([{ entity: 'MODEL_VERSION', action: 'ACTION_UNSPECIFIED' }]), msg('"ACTION_UNSPECIFIED"'));
  });
  it('rejects a non-object event', () => {
    expect(() => v.validateWebhookEvents(['MODEL_VERSION.CREATED'])).toThrow(MlflowError);
  });
});

describe('validateWebhookStatus / validateWebhookDescription (extra checks, see top of validation.ts)', () => {
  it.each(['ACTIVE', 'DISABLED'])('accepts %s', (s) => expect(() => v.validateWebhookStatus(s)).not.toThrow());
  it.each(['active', 'PAUSED', '', null, 1])('rejects %j', (s) =>
    expectInvalid(
      () => v.validateWebhookStatus(s),
      `Invalid webhook status: ${s === null ? 'null' : JSON.stringify(s)}. Valid statuses are: ['ACTIVE', 'DISABLED']`,
    ),
  );
  it('caps descriptions at 1000 characters', () => {
    expect(() => v.validateWebhookDescription(undefined)).not.toThrow();
    expect(() => v.validateWebhookDescription('d'.repeat(1000))).not.toThrow();
    expectInvalid(() => v.validateWebhookDescription('d'.repeat(1001)), "'description' exceeds the maximum length of 1000 characters");
  });
});

describe('webhook URL defaults', () => {
  it('allows only https by default', () => {
    expect(() => v.validateWebhookUrl('https://hooks.example.com/x', ['https'])).not.toThrow();
    expectInvalid(() => v.validateWebhookUrl('http://hooks.example.com/x', ['https']), "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.");
  });
});

describe('Python emulation helpers', () => {
  it.each([
    ['', '.'],
    ['/', '/'],
    ['//', '//'],
    ['///a//b/', '/a/b'],
    ['//a/../b', '//b'],
    ['a/./b/../../..', '..'],
    ['/..', '/'],
    ['../../a', '../../a'],
  ])('pyNormpath(%j) = %j', (p, n) => expect(v.pyNormpath(p)).toBe(n));
  it.each([
    ['a', "'a'"],
    ["a'b", `"a'b"`],
    [`a'"b`, `'a\\'"b'`],
    ['\u0000\u001b\u007f\u0085\u00a0\u200b\u2028é\u{1f600}\u{e0001}', "'\\x00\\x1b\\x7f\\x85\\xa0\\u200b\\u2028é\u{1f600}\\U000e0001'"],
    ['\\', "'\\\\'"],
  ])('pyRepr(%j) = %s', (s, r) => expect(v.pyRepr(s)).toBe(r));
});
