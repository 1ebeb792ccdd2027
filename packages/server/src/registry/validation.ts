/**
 * Input validation for the Model Registry, mirroring MLflow 3.17.2 (`mlflow/utils/validation.py`,
 * `mlflow/entities/model_registry/model_version_stages.py`, `mlflow/entities/webhook.py`, and the
 * model-version source checks of `mlflow/server/handlers.py`). Message texts are MLflow's, verified
 * against the installed MLflow by validation.test.ts.
 *
 * Handler level vs store level. MLflow checks requests twice:
 *  - the handler schema (`_assert_required`, `_assert_string`, …) rejects absent/`""` required fields
 *    with "Missing value for required parameter 'x'. See the API docs for more information about
 *    request parameters." and non-strings with "Invalid value 5 for parameter 'x' supplied:  Hint: Value
 *    was of type 'int'. See the API docs …". Those are the HTTP layer's job (req.ts), not this file's;
 *  - the store (`_validate_*`) then rejects what passes the schema, with messages WITHOUT the
 *    "See the API docs" suffix. Every function here mirrors a store-level (or entity-level) check, except
 *    validateModelVersionSource, which mirrors the handler `_create_model_version`. Where a function
 *    gets a non-string that MLflow's schema would have rejected, it throws the schema's type message.
 *
 * Deliberate differences from MLflow:
 *  1. 400 where MLflow answers 500 (the Python client retries 500s for minutes):
 *     - `file://<remote-host>/…` sources: MLflow's `is_local_uri` raises without an error code (500)
 *       "<uri> is not a valid remote uri. …"; here the same text as INVALID_PARAMETER_VALUE.
 *     - `archive_existing_versions` with a non-active stage: same text, 400 instead of 500.
 *     - sources that Python's `urlparse` cannot parse (e.g. `http://[abc/x`, "Invalid IPv6 URL"):
 *       MLflow fails with an unhandled ValueError (500); here the non-local "relative path" message.
 *     - webhook events whose entity/action is unknown or missing: MLflow's protobuf parsing drops the
 *       unknown enum and `WebhookEntity.from_proto`/`WebhookAction.from_proto` raise ValueError (500);
 *       here 400 "Invalid webhook event entity …" / "Invalid webhook event action …" (our wording).
 *       Entity/action are accepted both as protobuf enum names (`MODEL_VERSION`, what REST carries) and
 *       as MLflow's lower-case values (`model_version`); over REST MLflow only knows the former.
 *     - versions that Python's int() accepts but JS cannot hold exactly (|v| > 2^53-1): MLflow answers
 *       404 or, on SQLite past 2^63, 500 "Python int too large to convert to SQLite INTEGER"; here 400
 *       with the not-an-integer message (such a version can never exist).
 *  2. Stricter source checks (security; MLflow on Linux accepts these):
 *     - a `..` segment separated by backslashes (`s3://b/a\..\..\etc`) is rejected like a `/../` one
 *       (CVE-2023-2780 class), after the same repeated URL-decoding;
 *     - a NUL anywhere in the decoded source is rejected (MLflow only looks at the URL path);
 *     - local sources (no scheme, `file:`) are ALWAYS rejected with MLflow's local-source message: our
 *       server has no tracking store, so it can never prove such a path lies inside a run's artifact
 *       directory, which is the only case where MLflow accepts one (CVE-2023-1177).
 *     - the "path changes when resolved" rule is applied lexically: MLflow calls
 *       `pathlib.Path(path).resolve()` on the server's own filesystem, so a segment that happens to be a
 *       symlink on the MLflow host (e.g. `/bin` -> `usr/bin`) also fails there. Here only `.`/`..`
 *       segments and relative/empty paths fail, which does not depend on the host.
 *  3. Webhooks (extra exports, MLflow has no such checks): validateWebhookStatus rejects a status other
 *     than ACTIVE/DISABLED (MLflow's protobuf parsing silently ignores it, so a create gets ACTIVE);
 *     validateWebhookDescription caps the description at the DB column size of 1000 characters (MLflow
 *     leaves that to the database).
 *  4. Unicode: Python's `\w`, `\d`, whitespace and printable classes are emulated with JS property
 *     escapes, which use Node's Unicode tables (17.0) where Python 3.11 uses 14.0: ~14k code points
 *     assigned since 14.0 count as letters/digits here but not in MLflow. Nothing else differs (checked
 *     code point by code point).
 *
 * MLflow quirks kept on purpose: Python's `$` matches before a final "\n", so tag keys and aliases
 * such as "a\n" are accepted and "v1\n" is a reserved alias; "..x" is not a valid model name; a tag
 * value of 100000 code points passes even though the RM tag column is VARCHAR(5000).
 *
 * Not covered here (they need state or configuration this module does not have):
 *  - MLflow 3.17's source *lineage* checks (`runs:/<id>` must match run_id, `models:/` sources must not
 *    name a host and must match model_id or resolve to a registered version, `mlflow-artifacts` sources
 *    must lie under the run's or logged model's artifact root) and the host-addressed scheme policy
 *    (`MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES`, GHSA-mr9f-g8qf-4w4j);
 *  - the webhook URL's DNS resolution to public IPs (`_validate_hostname_resolves_to_public_ips`), which
 *    is asynchronous and belongs with delivery-time SSRF protection.
 */
import { PyValueError, pyHostname, pyUrlParse, type PyUrl } from '../python/urlparse.js';
import { pyRepr } from '../python/repr.js';

export { pyRepr };
import { MlflowError } from '../errors.js';

// ------------------------------------------------------------------------------------------------
// Constants (mlflow/utils/validation.py, mlflow/prompt/constants.py)

export const MAX_MODEL_REGISTRY_TAG_KEY_LENGTH = 250;
export const MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100_000;
export const MAX_REGISTERED_MODEL_ALIAS_LENGTH = 255;
/** DB column size of `webhooks.description` (MLflow itself does not validate it). */
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 1000;
export const PROMPT_TEXT_TAG_KEY = 'mlflow.prompt.text';
export const IS_PROMPT_TAG_KEY = 'mlflow.prompt.is_prompt';
/**
 * The only sources a prompt version may have (`_PROMPT_SOURCE_PLACEHOLDERS`): the Python store sends
 * "prompt-template", the UI and older clients "dummy-source".
 */
export const PROMPT_SOURCE_PLACEHOLDERS: readonly string[] = ['dummy-source', 'prompt-template'];

const BAD_ALIAS_CHARACTERS_MESSAGE = 'Names may only contain alphanumerics, underscores (_), and dashes (-).';
const BAD_CHARACTER_MESSAGE =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';
const API_DOCS_SUFFIX = ' See the API docs for more information about request parameters.';

// ------------------------------------------------------------------------------------------------
// Python emulation helpers

/** Python's `str.isspace()` / `Py_UNICODE_ISSPACE` set (used by `str.strip()` and `int()`). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const PY_SPACE_CHAR_RE = new RegExp(`^[${PY_SPACE}]$`, 'u');
/** Python `\w` (str patterns): letters, numbers and underscore. No combining marks. */
const W = '\\p{L}\\p{N}_';
/**
 * Python `re.match(r'^…$', s)`: `$` also matches just before a final "\n", so "abc\n" passes
 * `^[\w]*$`. Reproduced on purpose (`(?:\n)?$`), it is what MLflow accepts.
 */
const TAG_KEY_RE = new RegExp(`^[/${W}.\\- :]*\\n?$`, 'u');
const ALIAS_RE = new RegExp(`^[${W}\\-]*\\n?$`, 'u');
const ALIAS_VERSION_RE = /^[vV]\p{Nd}+\n?$/u;
/** Python `[a-z0-9]` under re.IGNORECASE also matches U+0130 İ, U+0131 ı, U+017F ſ and U+212A K. */
const WH_ALNUM = 'a-zA-Z0-9\\u0130\\u0131\\u017f\\u212a';
const WEBHOOK_NAME_RE = new RegExp(`^(?=[^\\n]{1,63}$)[${WH_ALNUM}](?:[${WH_ALNUM}._\\-]*[${WH_ALNUM}])?$`, 'u');

const pyStrip = (s: string): string => s.replace(PY_STRIP_RE, '');
/** Python `len()`: code points, not UTF-16 units. */
const pyLen = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** Python `json.dumps(v, sort_keys=True, separators=(",", ":"))` (ensure_ascii). */
function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    let out = '"';
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const ch = v[i]!;
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (c < 0x20 || c > 0x7e) out += `\\u${hex(c, 4)}`;
      else out += ch;
    }
    return out + '"';
  }
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(pyJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${pyJson(k)}:${pyJson(o[k])}`)
      .join(',')}}`;
  }
  return pyJson(String(v));
}

/** Python `type(v).__name__` for a JSON value. */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** `invalid_value(path, value, message)`. */
const invalidValue = (path: string, value: unknown, message?: string): string =>
  message
    ? `Invalid value ${pyJson(value)} for parameter '${path}' supplied: ${message}`
    : `Invalid value ${pyJson(value)} for parameter '${path}' supplied.`;
const missingValue = (path: string): string => `Missing value for required parameter '${path}'.`;
const exceedsMaximumLength = (path: string, limit: number): string =>
  `'${path}' exceeds the maximum length of ${limit} characters`;

/** The handler schema's `_assert_string`/`_assert_array` failure (MLflow's answer for a mistyped field). */
function wrongType(param: string, value: unknown): MlflowError {
  return MlflowError.invalid(
    invalidValue(param, value, ` Hint: Value was of type '${pyTypeName(value)}'.`) + API_DOCS_SUFFIX,
  );
}

/** `posixpath.normpath`. */
export function pyNormpath(path: string): string {
  if (path === '') return '.';
  let initial = path.startsWith('/') ? 1 : 0;
  if (initial && path.startsWith('//') && !path.startsWith('///')) initial = 2;
  const comps: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initial && comps.length === 0) || (comps.length > 0 && comps[comps.length - 1] === '..')) {
      comps.push(comp);
    } else if (comps.length > 0) {
      comps.pop();
    }
  }
  const out = '/'.repeat(initial) + comps.join('/');
  return out || '.';
}

/** `path_not_unique(name)`. */
function pathNotUnique(name: string): boolean {
  const norm = pyNormpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

/** `bad_path_message(name)`. */
const badPathMessage = (name: string): string =>
  'Names may be treated as files in certain cases, and must not resolve to other names' +
  ` when treated as such. This name would resolve to ${pyRepr(pyNormpath(name))}`;

/** `_validate_length_limit(entity_name, limit, value)` (without truncation). */
function validateLengthLimit(entityName: string, limit: number, value: string | null | undefined): void {
  if (value === null || value === undefined) return;
  if (value.length > limit && pyLen(value) > limit) {
    throw MlflowError.invalid(exceedsMaximumLength(entityName, limit));
  }
}

// ------------------------------------------------------------------------------------------------
// Registered model names

/**
 * Mirrors `_validate_model_name` (store level, so no "See the API docs" suffix): not None and not
 * blank after Python `str.strip()` → "Missing value for required parameter 'name'."; no `/` or `:`;
 * must not resolve to another path name (".", "..", "..x"). The handler's `_assert_required` already
 * rejects absent/"" names with the suffixed message; whitespace-only names reach this check.
 */
export function validateModelName(name: unknown): asserts name is string {
  if (name === null || name === undefined) throw MlflowError.invalid(missingValue('name'));
  if (typeof name !== 'string') throw wrongType('name', name);
  if (pyStrip(name) === '') throw MlflowError.invalid(missingValue('name'));
  if (name.includes('/') || name.includes(':')) {
    throw MlflowError.invalid(`Invalid model name '${name}'. Names cannot contain '/' or ':'.`);
  }
  if (pathNotUnique(name)) throw MlflowError.invalid(invalidValue('name', name, badPathMessage(name)));
}

/**
 * Mirrors `_validate_model_renaming`: blank → "Missing value for required parameter 'new_name'.",
 * then the `_validate_model_name` rules (whose messages say 'name').
 */
export function validateNewModelName(newName: unknown): asserts newName is string {
  if (newName === null || newName === undefined) throw MlflowError.invalid(missingValue('new_name'));
  if (typeof newName !== 'string') throw wrongType('new_name', newName);
  if (pyStrip(newName) === '') throw MlflowError.invalid(missingValue('new_name'));
  validateModelName(newName);
}

// ------------------------------------------------------------------------------------------------
// Versions

/** Numeric value of a Unicode decimal digit (Nd ranges are runs of 0..9 blocks). */
function decimalValue(cp: number): number {
  let k = 0;
  while (cp - k - 1 >= 0 && /\p{Nd}/u.test(String.fromCodePoint(cp - k - 1))) k++;
  return k % 10;
}

/** Python `int(s)` for a str (base 10), or null where Python raises ValueError. */
function pyIntFromString(s: string): bigint | null {
  // int() maps Unicode whitespace to ' ' and Unicode decimal digits to ASCII before parsing.
  let ascii = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) ascii += ch;
    else if (PY_SPACE_CHAR_RE.test(ch)) ascii += ' ';
    else if (/^\p{Nd}$/u.test(ch)) ascii += String(decimalValue(cp));
    else return null;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9](?:_?[0-9])*)[ \t\n\v\f\r]*$/.exec(ascii);
  if (!m) return null;
  const digits = m[2]!.replaceAll('_', '');
  if (digits.length > 4300) return null; // sys.int_info.default_max_str_digits
  const v = BigInt(digits);
  return m[1] === '-' ? -v : v;
}

/**
 * Mirrors `_validate_model_version`: Python `int(version)`, so surrounding (Unicode) whitespace, a sign,
 * leading zeros, single underscores between digits and non-ASCII decimal digits are accepted
 * (" +0_7 " → 7). Otherwise "Parameter 'version' must be an integer, got '<v>'." (`param` replaces
 * 'version'). An absent value is treated as "" (the protobuf default the handler would pass).
 */
export function parseModelVersion(version: unknown, param = 'version'): number {
  const fail = (shown: string): MlflowError =>
    MlflowError.invalid(`Parameter '${param}' must be an integer, got '${shown}'.`);
  if (version === null || version === undefined) throw fail('');
  if (typeof version === 'number') {
    if (Number.isSafeInteger(version)) return version === 0 ? 0 : version;
    throw fail(String(version));
  }
  if (typeof version !== 'string') throw fail(String(version));
  const v = pyIntFromString(version);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw fail(version);
  const n = Number(v);
  return n === 0 ? 0 : n;
}

// ------------------------------------------------------------------------------------------------
// Tags

/**
 * Mirrors `_validate_tag_name(key)` exactly (no length check; MLflow's delete-tag paths use only this):
 * None → "Missing value for required parameter 'key'."; characters `^[/\w.\- :]*$` (Python `\w` is
 * Unicode; `$` tolerates one trailing "\n"); must not normalise to a different path ("", "a//b", "./a",
 * "/a", "a/", "..").
 */
export function validateTagName(key: unknown): asserts key is string {
  if (key === null || key === undefined) throw MlflowError.invalid(missingValue('key'));
  if (typeof key !== 'string') throw wrongType('key', key);
  if (!TAG_KEY_RE.test(key)) throw MlflowError.invalid(invalidValue('key', key, BAD_CHARACTER_MESSAGE));
  if (pathNotUnique(key)) throw MlflowError.invalid(invalidValue('key', key, badPathMessage(key)));
}

/** `_validate_tag_name(key)` then `_validate_length_limit("key", 250, key)`. */
export function validateTagKey(key: unknown): asserts key is string {
  validateTagName(key);
  validateLengthLimit('key', MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key);
}

/**
 * Mirrors `_validate_registered_model_tag`: key rules, key ≤ 250, value ≤ 100000 code points.
 * A null/undefined value passes (MLflow skips the length check for None).
 */
export function validateRegisteredModelTag(key: unknown, value: unknown): void {
  validateTagKey(key);
  if (value !== null && value !== undefined && typeof value !== 'string') throw wrongType('value', value);
  validateLengthLimit('value', MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value);
}

/**
 * Mirrors `_validate_model_version_tag`: key rules; value None → "Tag value cannot be None" (the
 * handler must first apply the protobuf default "" for an absent value, as MLflow's does); key ≤ 250;
 * for `mlflow.prompt.text` "Prompt text exceeds max length of 100000 characters."; value ≤ 100000.
 */
export function validateModelVersionTag(key: unknown, value: unknown): void {
  validateTagName(key);
  if (value === null || value === undefined) throw MlflowError.invalid('Tag value cannot be None');
  if (typeof value !== 'string') throw wrongType('value', value);
  validateLengthLimit('key', MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, key);
  if (key === PROMPT_TEXT_TAG_KEY && pyLen(value) > MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH) {
    throw MlflowError.invalid(`Prompt text exceeds max length of ${MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH} characters.`);
  }
  validateLengthLimit('value', MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, value);
}

// ------------------------------------------------------------------------------------------------
// Aliases

/**
 * Mirrors `_validate_model_alias_name` (set, delete and get alias): non-empty, `^[\w\-]*$` (Unicode
 * `\w`; one trailing "\n" tolerated like Python's `$`), ≤ 255 code points.
 */
export function validateAliasName(alias: unknown): asserts alias is string {
  if (alias === null || alias === undefined || alias === '') {
    throw MlflowError.invalid('Registered model alias name cannot be empty.');
  }
  if (typeof alias !== 'string') throw wrongType('alias', alias);
  if (!ALIAS_RE.test(alias)) {
    throw MlflowError.invalid(`Invalid alias name: '${alias}'. ${BAD_ALIAS_CHARACTERS_MESSAGE}`);
  }
  validateLengthLimit('Registered model alias name', MAX_REGISTERED_MODEL_ALIAS_LENGTH, alias);
}

/**
 * Mirrors `_validate_model_alias_name_reserved` (set alias only): 'latest' in any case, and
 * `^[vV]\d+$` (Unicode digits) are reserved.
 */
export function validateAliasNameNotReserved(alias: string): void {
  if (alias.toLowerCase() === 'latest') {
    throw MlflowError.invalid("'latest' alias name (case insensitive) is reserved.");
  }
  if (ALIAS_VERSION_RE.test(alias)) throw MlflowError.invalid(`Version alias name '${alias}' is reserved.`);
}

// ------------------------------------------------------------------------------------------------
// Stages

/** `ALL_STAGES`. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
/** `DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS`: the stages that may archive existing versions. */
const ACTIVE_STAGES: readonly string[] = ['Staging', 'Production'];

/**
 * Mirrors `get_canonical_stage`: case-insensitive (Python `str.lower()`), returns the canonical
 * spelling; otherwise "Invalid Model Version stage: X. Value must be one of None, Staging, Production,
 * Archived." (X as given).
 */
export function canonicalStage(stage: unknown): string {
  if (typeof stage === 'string') {
    const key = stage.toLowerCase();
    const found = STAGES.find((s) => s.toLowerCase() === key);
    if (found) return found;
  }
  const shown = typeof stage === 'string' ? stage : stage === null || stage === undefined ? 'None' : pyJson(stage);
  throw MlflowError.invalid(`Invalid Model Version stage: ${shown}. Value must be one of ${STAGES.join(', ')}.`);
}

/**
 * Mirrors the check at the top of `SqlAlchemyStore.transition_model_version_stage`: the stage must be
 * valid, and `archive_existing_versions` is only allowed with Staging or Production. The message shows
 * the stage as sent. MLflow raises it with no error code (500); here 400 (deliberate).
 */
export function validateArchiveExistingVersions(stage: string, archive: boolean): void {
  const canonical = canonicalStage(stage);
  if (archive && !ACTIVE_STAGES.includes(canonical)) {
    throw MlflowError.invalid(
      `Model version transition cannot archive existing model versions because '${stage}' is not an Active` +
        ` stage. Valid stages are ['Staging', 'Production']`,
    );
  }
}

const utf8Lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** `urllib.parse.unquote_plus` (UTF-8, errors="replace"). */
function pyUnquotePlus(input: string): string {
  const s = input.replaceAll('+', ' ');
  if (!s.includes('%')) return s;
  // Python unquotes each maximal ASCII run to bytes and decodes it; non-ASCII runs pass through.
  return s.replace(/[\x00-\x7f]+/g, (run) => {
    if (!run.includes('%')) return run;
    const bytes: number[] = [];
    for (let i = 0; i < run.length; i++) {
      if (run[i] === '%' && /^[0-9a-fA-F]{2}$/.test(run.slice(i + 1, i + 3))) {
        bytes.push(parseInt(run.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(run.charCodeAt(i));
      }
    }
    return utf8Lossy.decode(Uint8Array.from(bytes));
  });
}

// ------------------------------------------------------------------------------------------------
// Model-version sources (handlers.py `_create_model_version`)

export interface SourceValidationOptions {
  /**
   * Whether the request creates a prompt version. MLflow decides it from the request's tags
   * (`_is_prompt_request`: tags collapse by key, last value wins, and only a value equal to "true" in
   * any case counts); see isPromptRequest.
   */
  isPrompt: boolean;
  /** `MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX`, compiled; `re.search` semantics. */
  regex?: RegExp | undefined;
  /**
   * The request's run_id. With an id, MLflow looks the run up to check that it contains a local
   * source; this server has no runs, so the lookup always fails the way MLflow's does for an unknown run.
   */
  runId?: string | undefined;
  /**
   * The request's model_id, if any. Only chooses the wording of the local-source message, as MLflow
   * does (`_validate_source_model` vs `_validate_source_run`).
   */
  modelId?: string | null | undefined;
}

/** `_is_prompt_request`: the last `mlflow.prompt.is_prompt` tag decides; "true" in any case. */
export function isPromptRequest(tags: readonly { key?: string | null; value?: string | null }[] | null | undefined): boolean {
  let value = 'false';
  for (const t of tags ?? []) if (t.key === IS_PROMPT_TAG_KEY) value = t.value ?? '';
  return value.toLowerCase() === 'true';
}

const invalidNonLocalSource = (source: string): MlflowError =>
  MlflowError.invalid(
    `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp,` +
      ' objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path' +
      ' references present. Please provide an absolute path.',
  );

/**
 * `is_local_uri(source)` (POSIX server): no scheme, or `file:` naming no remote host. Throws the
 * remote-file error (400 here, 500 in MLflow). `"databricks"` is not local.
 */
function isLocalSource(source: string, url: PyUrl): boolean {
  if (source === 'databricks') return false;
  if (url.scheme === '') return true;
  if (url.scheme !== 'file') return false;
  const host = pyHostname(url.netloc);
  if (host && !(host === '.' || host.startsWith('localhost') || host.startsWith('127.0.0.1'))) {
    throw MlflowError.invalid(
      `${source} is not a valid remote uri. For remote access on windows, please consider using a different` +
        ' scheme such as SMB (e.g. smb://<hostname>/<path>).',
    );
  }
  return true;
}

/**
 * `_validate_non_local_source_contains_relative_paths`, plus the stricter rules listed at the top
 * (backslash `..` segments, NUL anywhere, lexical resolve).
 */
function validateNonLocalSourcePath(original: string): void {
  let source = original;
  for (let unquoted = pyUnquotePlus(source); unquoted !== source; unquoted = pyUnquotePlus(source)) {
    source = unquoted;
  }
  if (source.includes('\0')) throw invalidNonLocalSource(original);
  if (source.split(/[/\\]/).some((p) => p === '..')) throw invalidNonLocalSource(original);
  let path: string;
  try {
    path = pyUrlParse(source).path;
  } catch (e) {
    if (e instanceof PyValueError) throw invalidNonLocalSource(original);
    throw e;
  }
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  const sourcePath = path.slice(0, end).replace(/\/+/g, '/');
  // pathlib.Path(p).resolve() == p  <=>  p is absolute and has no "." / ".." segment (no symlinks assumed).
  if (!sourcePath.startsWith('/') || sourcePath.split('/').some((p) => p === '.' || p === '..')) {
    throw invalidNonLocalSource(original);
  }
}

/**
 * Mirrors the source checks of `_create_model_version` (handlers.py), in MLflow's order:
 *  1. if a regex is configured and the source is non-empty, `re.search(regex, source)` must match, else
 *     "Invalid model version source: '<source>'." (prompts included);
 *  2. prompts (CVE-2026-2614): the source must be exactly one of PROMPT_SOURCE_PLACEHOLDERS
 *     ("prompt-template" from the Python client, "dummy-source" from the UI), else "Invalid prompt
 *     source: '<source>'. Prompt sources must use an MLflow placeholder." A placeholder is a fixed,
 *     inert string, so nothing else needs checking; no other source gets past a prompt request, so the
 *     `mlflow.prompt.is_prompt` tag no longer bypasses anything. Conversely a non-prompt request with
 *     source "prompt-template" is a local path and is rejected by rule 3;
 *  3. local sources (no scheme, or `file:`): always rejected with MLflow's local-source message, since
 *     this server has no tracking store to prove containment in a run's (or logged model's) artifact
 *     directory; `file://<remote-host>/…` gets MLflow's "not a valid remote uri" message;
 *  4. non-local sources: URL-decoded (`unquote_plus`) until stable; a NUL, any `..` segment (split on
 *     `/` or `\`), or a URL path that is relative/empty or changes when normalised → "Invalid model
 *     version source: '<source>'. If supplying a source as an http, …".
 */
export function validateModelVersionSource(source: string, opts: SourceValidationOptions): void {
  if (source && opts.regex) {
    const re = new RegExp(opts.regex.source, opts.regex.flags.replace(/[gy]/g, ''));
    if (!re.test(source)) throw MlflowError.invalid(`Invalid model version source: '${source}'.`);
  }
  if (opts.isPrompt) {
    if (!PROMPT_SOURCE_PLACEHOLDERS.includes(source)) {
      throw MlflowError.invalid(
        `Invalid prompt source: '${source}'. Prompt sources must use an MLflow placeholder.`,
      );
    }
    return;
  }
  let url: PyUrl;
  try {
    url = pyUrlParse(source);
  } catch (e) {
    if (e instanceof PyValueError) throw invalidNonLocalSource(source);
    throw e;
  }
  if (isLocalSource(source, url)) {
    const id = opts.modelId ? 'model_id' : 'run_id';
    if (opts.modelId || opts.runId) {
      throw MlflowError.invalid(
        `Invalid model version source: '${source}'. The ${id} request parameter must identify the resource that contains the source.`,
      );
    }
    throw MlflowError.invalid(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the ${id}` +
        ' request parameter has to be specified and the local path has to be contained within the artifact' +
        ` directory of the run specified by the ${id}.`,
    );
  }
  validateNonLocalSourcePath(source);
}

// ------------------------------------------------------------------------------------------------
// Webhooks (MLflow >= 3.3)

/** `VALID_ENTITY_ACTIONS` (mlflow/entities/webhook.py), by lower-case value. */
const VALID_ENTITY_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  registered_model: ['created'],
  model_version: ['created'],
  model_version_tag: ['set', 'deleted'],
  model_version_alias: ['created', 'deleted'],
  prompt: ['created'],
  prompt_version: ['created'],
  prompt_tag: ['set', 'deleted'],
  prompt_version_tag: ['set', 'deleted'],
  prompt_alias: ['created', 'deleted'],
  budget_policy: ['exceeded'],
};
const WEBHOOK_ACTIONS = ['created', 'updated', 'deleted', 'set', 'exceeded'];

/**
 * Mirrors `_validate_webhook_name`: a string of 1–63 characters, starting and ending with a letter or
 * digit, with letters, digits, `.`, `_`, `-` in between (case-insensitive, as Python's IGNORECASE).
 */
export function validateWebhookName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw MlflowError.invalid(`Webhook name must be a string, got ${pyRepr(pyTypeName(name))}`);
  }
  if (!WEBHOOK_NAME_RE.test(name)) {
    throw MlflowError.invalid(
      `Webhook name ${pyRepr(name)} is invalid. It must start and end with a letter or digit, be less than 63` +
        ' characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).',
    );
  }
}

/**
 * Mirrors `_validate_webhook_url` up to (not including) the DNS check: a string, not blank, parseable
 * by Python's `urlparse`, scheme (lower-cased by urlparse) in `allowedSchemes` (compared as given, like
 * `MLFLOW_WEBHOOK_ALLOWED_SCHEMES`, default ['https']), and a hostname.
 */
export function validateWebhookUrl(url: unknown, allowedSchemes: readonly string[] = ['https']): asserts url is string {
  if (typeof url !== 'string') {
    throw MlflowError.invalid(`Webhook URL must be a string, got ${pyRepr(pyTypeName(url))}`);
  }
  if (pyStrip(url) === '') {
    throw MlflowError.invalid(`Webhook URL cannot be empty or just whitespace: ${pyRepr(url)}`);
  }
  let parsed: PyUrl;
  try {
    parsed = pyUrlParse(url);
  } catch (e) {
    if (e instanceof PyValueError) {
      throw MlflowError.invalid(`Invalid webhook URL ${pyRepr(url)}: ValueError(${pyRepr(e.message)})`);
    }
    throw e;
  }
  if (!allowedSchemes.includes(parsed.scheme)) {
    throw MlflowError.invalid(
      `Invalid webhook URL scheme: ${pyRepr(parsed.scheme)}. Allowed schemes are: ${allowedSchemes.join(', ')}.`,
    );
  }
  if (!pyHostname(parsed.netloc)) {
    throw MlflowError.invalid(`Webhook URL must include a hostname: ${pyRepr(url)}`);
  }
}

/**
 * `urllib.parse.urlparse(url).hostname` of a URL that passed validateWebhookUrl: the host MLflow
 * resolves (`_validate_hostname_resolves_to_public_ips`). Python's parser, not WHATWG `new URL`, which
 * refuses much of what urlparse accepts (a bad port, a space or `<` in the host, `1.2.3.4.5`, a `%`).
 */
export function webhookUrlHostname(url: string): string {
  return pyHostname(pyUrlParse(url).netloc) ?? '';
}

/** Lower-case value of an entity/action given as protobuf enum name (REST) or Python enum value. */
function enumValue(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  if (v === v.toUpperCase()) return v.toLowerCase();
  return v === v.toLowerCase() ? v : null;
}

/**
 * Mirrors `WebhookEvent.__init__` (each pair must be valid: "Invalid action 'updated' for entity
 * 'registered_model'. Valid actions are: ['created']") and `_validate_webhook_events` (non-empty list:
 * "Webhook events must be a non-empty list of WebhookEvent objects: []."). Entity/action are accepted as
 * the protobuf enum names the REST API carries (`MODEL_VERSION`/`CREATED`) or as MLflow's lower-case
 * values; MLflow checks the pairs in the handler, before the store checks name, URL and non-emptiness.
 */
export function validateWebhookEvents(events: unknown): asserts events is { entity: string; action: string }[] {
  if (events === null || events === undefined || (Array.isArray(events) && events.length === 0)) {
    throw MlflowError.invalid(
      `Webhook events must be a non-empty list of WebhookEvent objects: ${Array.isArray(events) ? '[]' : 'None'}.`,
    );
  }
  if (!Array.isArray(events)) throw wrongType('events', events);
  for (const ev of events) {
    const e = ev !== null && typeof ev === 'object' ? (ev as Record<string, unknown>) : {};
    const entity = enumValue(e.entity);
    if (entity === null || !(entity in VALID_ENTITY_ACTIONS)) {
      throw MlflowError.invalid(
        `Invalid webhook event entity: ${pyJson(e.entity ?? null)}. Valid entities are: ` +
          `[${Object.keys(VALID_ENTITY_ACTIONS).map((k) => `'${k}'`).join(', ')}]`,
      );
    }
    const action = enumValue(e.action);
    if (action === null || !WEBHOOK_ACTIONS.includes(action)) {
      throw MlflowError.invalid(
        `Invalid webhook event action: ${pyJson(e.action ?? null)}. Valid actions are: ` +
          `[${WEBHOOK_ACTIONS.map((k) => `'${k}'`).join(', ')}]`,
      );
    }
    const valid = VALID_ENTITY_ACTIONS[entity]!;
    if (!valid.includes(action)) {
      throw MlflowError.invalid(
        `Invalid action '${action}' for entity '${entity}'. Valid actions are: ` +
          `[${[...valid].sort().map((a) => `'${a}'`).join(', ')}]`,
      );
    }
  }
}

/** Webhook status: `ACTIVE` or `DISABLED` (protobuf enum names). Stricter than MLflow (see top). */
export function validateWebhookStatus(status: unknown): asserts status is 'ACTIVE' | 'DISABLED' {
  if (status !== 'ACTIVE' && status !== 'DISABLED') {
    throw MlflowError.invalid(
      `Invalid webhook status: ${pyJson(status ?? null)}. Valid statuses are: ['ACTIVE', 'DISABLED']`,
    );
  }
}

/** Webhook description ≤ 1000 code points (the DB column); MLflow leaves this to the database. */
export function validateWebhookDescription(description: unknown): void {
  if (description === null || description === undefined) return;
  if (typeof description !== 'string') throw wrongType('description', description);
  validateLengthLimit('description', MAX_WEBHOOK_DESCRIPTION_LENGTH, description);
}
