/**
 * Request parsing with MLflow's semantics (mlflow/server/handlers.py `_get_request_message`):
 *
 *  - a GET with a query string reads the query: only keys naming fields of the request, a repeated
 *    field as the list of all its values (also when given once), scalars from their first
 *    occurrence, bools as `true`/`false` in any case;
 *  - every other request (a GET without query string too) reads its body as JSON: Content-Type is
 *    checked on POST and PUT only, invalid JSON reads as nothing, a body that is a JSON string is
 *    decoded once more (older clients double-encode);
 *  - a body naming one field twice (`new_name` and `newName`) is refused;
 *  - the dict is then loaded like protobuf's `ParseDict(..., ignore_unknown_fields=True)`: fields
 *    by proto name or JSON (lowerCamelCase) name, in the order the dict lists them, unknown keys
 *    ignored, `null` as unset, int64 from numbers or numeric strings. On the first value that does
 *    not parse, ParseDict stops: what was set before stays set, the rest stays unset, and the
 *    handler-level type checks then run on the raw values (req.ts `checkSchema`).
 *
 * The field kinds come from the spec (gen/operations.gen.ts), so the contract decides what a field
 * is. Missing fields stay absent: the services apply proto2 defaults. The result is the operation's
 * typed input (gen/inputs.gen.ts, generated from the same spec).
 */
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { MlflowError } from '../errors.js';
import type { FieldKind } from './field-kind.js';
import type { OperationSpec } from '../gen/operations.gen.js';
import type { LimitsConfig } from '../config.js';
import type { ParsedRequest, RequestFields } from '../registry/req.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import type { OperationId } from '../gen/operations.gen.js';
import { hasBody, readBody } from './body.js';

/**
 * A parsed request: `fields`, the operation's typed input (what parsed as its declared kind; absent
 * means unset, as in proto2), and `raw`, the request dict as MLflow's handlers see it (for their
 * checks and messages). `optStr` reads a field by a name known only at run time (the permission rules
 * of the generated table); everything else uses the typed `fields`.
 */
export class Req<I extends object = RequestFields> implements ParsedRequest<I> {
  constructor(
    readonly fields: I,
    readonly raw: Readonly<Record<string, unknown>>,
    readonly parseOk: boolean,
  ) {}

  /** Optional string field named at run time: undefined when unset. */
  optStr(name: string): string | undefined {
    const v = (this.fields as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  }
}

/** The parsed request of operation K. */
export type OperationRequest<K extends OperationId> = Req<OperationInput<K>>;

type Fields = Readonly<Record<string, FieldKind>>;

class ParseError extends Error {}

/** jsonName's answers: field names come from the spec only (a few hundred), and every request asks again. */
const jsonNames = new Map<string, string>();

/** protobuf's ToJsonName: `archive_existing_versions` -> `archiveExistingVersions`. */
function jsonName(name: string): string {
  let json = jsonNames.get(name);
  if (json === undefined) jsonNames.set(name, (json = toJsonName(name)));
  return json;
}

function toJsonName(name: string): string {
  let out = '';
  let upper = false;
  for (const ch of name) {
    if (ch === '_') upper = true;
    else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return out;
}

const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Python int() of a str (ASCII digits, optional sign, single underscores between digits, whitespace around). */
function pyIntString(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9](?:_?[0-9])*)[ \t\n\v\f\r]*$/.exec(s);
  if (!m) return null;
  return Number(m[1] + m[2]!.replaceAll('_', ''));
}

/** Python float() of a str, or null where it raises ValueError. */
function pyFloatString(s: string): number | null {
  const t = s.trim().replaceAll('_', '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return null;
  return Number(t);
}

const INT_RANGE = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [-(2 ** 63), 2 ** 63 - 1] } as const;

/** json_format `_ConvertInteger`, then the field's range check. */
function convertInteger(kind: 'int32' | 'int64', value: unknown): number {
  let n: number;
  if (typeof value === 'boolean') throw new ParseError('bool for integer');
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new ParseError("Couldn't parse integer");
    n = value;
  } else if (typeof value === 'string') {
    if (value.includes(' ')) throw new ParseError("Couldn't parse integer");
    const i = pyIntString(value);
    if (i !== null) n = i;
    else {
      const f = pyFloatString(value);
      if (f === null || !Number.isInteger(f)) throw new ParseError("Couldn't parse integer");
      n = f;
    }
  } else {
    throw new ParseError("Couldn't parse integer");
  }
  const [lo, hi] = INT_RANGE[kind];
  if (n < lo || n > hi) throw new ParseError('Value out of range');
  return n === 0 ? 0 : n;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function convertScalar(kind: FieldKind, value: unknown): unknown {
  switch (kind.kind) {
    case 'string':
      if (typeof value !== 'string' || UNPAIRED_SURROGATE.test(value)) throw new ParseError('not a string');
      return value;
    case 'int64':
    case 'int32':
      return convertInteger(kind.kind, value);
    case 'bool':
      // In a JSON body only true/false parse (a GET's query values are converted before).
      if (typeof value !== 'boolean') throw new ParseError('Expected true or false without quotes');
      return value;
    case 'enum':
      if (typeof value === 'string' && kind.values.includes(value)) return value;
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw new ParseError('Invalid enum value');
    default:
      throw new ParseError('not a scalar');
  }
}

/**
 * ParseDict into `out` (mutated as it goes, so that a failure leaves what was parsed before it).
 * `js` is what Python would iterate: a dict's keys, a str's characters, a list's items.
 */
function convertMessage(fields: Fields, js: unknown, out: RequestFields): void {
  if (typeof js === 'string') {
    // Iterating a str yields 1-character names: none is a field, so nothing is set.
    for (const ch of js) if (fieldFor(fields, ch)) throw new ParseError('string is not a message');
    return;
  }
  if (Array.isArray(js)) {
    for (const item of js) {
      if (typeof item !== 'string' || fieldFor(fields, item) || /^\[.*\]$/s.test(item)) throw new ParseError('list is not a message');
    }
    return;
  }
  if (!isDict(js)) throw new ParseError('not a message');
  for (const key of Object.keys(js)) {
    const found = fieldFor(fields, key);
    if (!found) continue; // ignore_unknown_fields
    const [name, kind] = found;
    const value = js[key];
    if (value === null || value === undefined) {
      delete out[name];
      continue;
    }
    if (kind.kind === 'repeated') {
      const list: unknown[] = [];
      out[name] = list;
      if (!Array.isArray(value)) throw new ParseError('repeated field must be a list');
      for (const item of value) {
        if (kind.item.kind === 'message') {
          const sub: RequestFields = {};
          list.push(sub);
          if (item === null) throw new ParseError('null is not allowed in a repeated field');
          convertMessage(kind.item.fields, item, sub);
        } else {
          if (item === null) throw new ParseError('null is not allowed in a repeated field');
          list.push(convertScalar(kind.item, item));
        }
      }
    } else if (kind.kind === 'message') {
      const sub: RequestFields = {};
      out[name] = sub;
      convertMessage(kind.fields, value, sub);
    } else {
      out[name] = convertScalar(kind, value);
    }
  }
}

/** The field a dict key names: by JSON name first, then by proto name (json_format's lookup order). */
function fieldFor(fields: Fields, key: string): [string, FieldKind] | undefined {
  for (const name in fields) if (jsonName(name) === key) return [name, fields[name]!];
  const kind = Object.hasOwn(fields, key) ? fields[key] : undefined;
  return kind ? [key, kind] : undefined;
}

/** handlers.py `_reject_conflicting_field_aliases`: one field spelled two ways is ambiguous. */
function rejectConflictingAliases(js: unknown, fields: Fields): void {
  if (!isDict(js)) return;
  for (const name in fields) {
    const json = jsonName(name);
    if (name !== json && name in js && json in js) {
      throw MlflowError.invalid(`Request specifies both '${name}' and '${json}'; provide only one of them.`);
    }
    const kind = fields[name]!;
    const nested = kind.kind === 'message' ? kind.fields : kind.kind === 'repeated' && kind.item.kind === 'message' ? kind.item.fields : undefined;
    if (!nested) continue;
    const value = name in js ? js[name] : js[json];
    for (const item of Array.isArray(value) ? value : [value]) rejectConflictingAliases(item, nested);
  }
}

/** `_get_request_message` after the dict is built: alias check, ParseDict, and the raw dict for the schema checks. */
function loadRequest(fields: Fields, requestJson: Record<string, unknown>): Req {
  checkListLengths(fields, requestJson);
  rejectConflictingAliases(requestJson, fields);
  const out: RequestFields = {};
  let parseOk = true;
  try {
    convertMessage(fields, requestJson, out);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    parseOk = false;
  }
  return new Req(out, requestJson, parseOk);
}

/** mlflow/server/validation.py `_validate_content_type`: POST and PUT only; the media type is compared as sent. */
export function checkJsonContentType(method: string, contentType: string | undefined): void {
  if (method !== 'POST' && method !== 'PUT') return;
  if (contentType === undefined) throw MlflowError.invalid('Bad Request. Content-Type header is missing.');
  if (contentType.split(';')[0] !== 'application/json') {
    throw MlflowError.invalid("Bad Request. Content-Type must be one of ['application/json'].");
  }
}

/**
 * `_get_normalized_request_json`: Flask's `get_json(force=True, silent=True)` (invalid JSON reads
 * as nothing), a JSON string decoded a second time, nothing as `{}`.
 *
 * Deliberate differences: where MLflow fails with an HTML 500 we answer 400 — a double-encoded
 * string that is not JSON ("Invalid JSON in request body"), and a body that is JSON but not an
 * object (read as `{}`, so the handler's own checks answer).
 */
function normalizeJson(body: Uint8Array): Record<string, unknown> {
  const text = decodeUtf8(body);
  let parsed: unknown;
  if (text !== undefined && text !== '') checkDepth(text);
  try {
    parsed = text === undefined || text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (typeof parsed === 'string') {
    checkDepth(parsed);
    try {
      parsed = JSON.parse(parsed);
    } catch {
      throw MlflowError.invalid('Invalid JSON in request body');
    }
  }
  return isDict(parsed) ? parsed : {};
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text; undefined when it is not UTF-8. Werkzeug's `get_json` hands the bytes to `json.loads`,
 * whose UnicodeDecodeError is a ValueError that `silent=True` turns into None: MLflow reads such a body as
 * no body at all (`{}`), so the handler's own checks answer and nothing is stored. (Python would decode
 * UTF-8-encoded surrogates with `surrogatepass`; here they are invalid like any other bad sequence.)
 */
function decodeUtf8(body: Uint8Array): string | undefined {
  try {
    return UTF8.decode(body);
  } catch {
    return undefined;
  }
}

/** Body of a GET: the fetch API drops it, so it is read from the Node request when there is one. */
async function getRequestBody(c: Context, limits: LimitsConfig): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded || !hasBody(c)) return new Uint8Array(0);
  return readBody(c, 'Request body', { maxBytes: limits.maxJsonBodyBytes, timeoutMs: limits.bodyTimeoutMs });
}

// ---- bounds on what one request may carry (README "Limits") -------------------------------------

/**
 * Deepest nesting of arrays and objects in a JSON body. Python's json raises RecursionError near 1000
 * levels (MLflow then answers 500); no MLflow request nests deeper than 4. Refused with 400 before any
 * parse, so nothing downstream ever walks a deep value.
 */
export const MAX_JSON_DEPTH = 64;
/**
 * Most values one repeated field may carry (tags, order_by, stages, run ids, multipart parts, …): S3's
 * 10,000 parts of a multipart upload, the largest list a real client sends. MLflow has no such bound for
 * registry requests (its MAX_PARAMS_TAGS_PER_BATCH = 100 is for the tracking log-batch API).
 */
export const MAX_LIST_ITEMS = 10_000;
/**
 * Longest query string, in characters. MLflow's servers refuse long request lines before Flask
 * (gunicorn: 4094 bytes; uvicorn/h11: 16 KiB); our own header limit (MAX_HEADER_KB) usually applies first.
 */
export const MAX_QUERY_STRING_CHARS = 64 * 1024;
/** Most `key=value` pairs in a query string (Werkzeug's form parser uses the same bound, max_form_parts). */
export const MAX_QUERY_PARAMS = 1000;

/**
 * A non-recursive scan of JSON text: whether arrays and objects nest deeper than `max` anywhere (outside
 * strings). Works on any text, valid JSON or not.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) {
      if (depth > 0) depth--;
    }
  }
  return false;
}

function checkDepth(text: string): void {
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw MlflowError.invalid(`Request body is nested too deeply: JSON arrays and objects may nest at most ${MAX_JSON_DEPTH} levels.`);
  }
}

/** Refuses a repeated field with more than MAX_LIST_ITEMS values, in the dict and in its nested messages. */
function checkListLengths(fields: Fields, js: unknown): void {
  if (!isDict(js)) return;
  for (const name in fields) {
    const kind = fields[name]!;
    const json = jsonName(name);
    if (Object.hasOwn(js, name)) checkListLength(name, kind, js[name]);
    if (json !== name && Object.hasOwn(js, json)) checkListLength(name, kind, js[json]);
  }
}

function checkListLength(name: string, kind: FieldKind, value: unknown): void {
  if (kind.kind === 'repeated' && Array.isArray(value)) {
    if (value.length > MAX_LIST_ITEMS) {
      throw MlflowError.invalid(`Too many values for parameter '${name}': ${value.length} given, at most ${MAX_LIST_ITEMS} allowed.`);
    }
    if (kind.item.kind === 'message') for (const item of value) checkListLengths(kind.item.fields, item);
  } else if (kind.kind === 'message') {
    checkListLengths(kind.fields, value);
  }
}

// ---- the query string, as Werkzeug reads it ------------------------------------------------------

const hex = (b: number) => '%' + b.toString(16).toUpperCase().padStart(2, '0');

/**
 * UTF-8 bytes to text, with every byte that is not part of a well-formed sequence written back as `%XX`
 * (Werkzeug ≥ 2.3: "invalid bytes remain percent encoded", its `werkzeug.url_quote` error handler).
 * Encoded surrogates and overlong forms are invalid, as in Python's strict UTF-8 codec.
 */
function decodeUtf8KeepingInvalid(bytes: number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) [need, cp] = [1, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) {
      [need, cp] = [2, b & 0x0f];
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      [need, cp] = [3, b & 0x07];
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else {
      out += hex(b);
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++, j++) {
      const cont = bytes[j];
      if (cont === undefined || cont < (k === 0 ? lo : 0x80) || cont > (k === 0 ? hi : 0xbf)) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cont & 0x3f);
    }
    if (ok) out += String.fromCodePoint(cp);
    else for (let k = i; k < j; k++) out += hex(bytes[k]!);
    i = j;
  }
  return out;
}

const HEX_DIGIT = /^[0-9a-fA-F]{2}$/;

/** Python's `urllib.parse.unquote(s, 'utf-8', 'werkzeug.url_quote')`: non-ASCII characters pass through. */
function unquote(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += decodeUtf8KeepingInvalid(bytes);
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0x25 /* % */ && HEX_DIGIT.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      flush();
      out += s[i];
    }
  }
  flush();
  return out;
}

/**
 * `request.args`: Python's `parse_qsl(qs, keep_blank_values=True, errors="werkzeug.url_quote")`, split on
 * `&` only, `+` as space. Bounded: MAX_QUERY_STRING_CHARS and MAX_QUERY_PARAMS (400 beyond).
 */
export function parseQueryString(qs: string): [string, string][] {
  if (qs.length > MAX_QUERY_STRING_CHARS) {
    throw MlflowError.invalid(`Query string too long: ${qs.length} characters, at most ${MAX_QUERY_STRING_CHARS} allowed.`);
  }
  const out: [string, string][] = [];
  for (const part of qs.split('&')) {
    if (part === '') continue;
    if (out.length === MAX_QUERY_PARAMS) {
      throw MlflowError.invalid(`Too many query parameters: at most ${MAX_QUERY_PARAMS} allowed.`);
    }
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    out.push([unquote(k.replaceAll('+', ' ')), unquote(v.replaceAll('+', ' '))]);
  }
  return out;
}

/**
 * Parses the request of `op` into its typed input (snake_case, as in the spec). The parser reads each field
 * as the kind the spec gives it (gen/operations.gen.ts), and the input type is generated from the same spec
 * (gen/inputs.gen.ts), so what it returns is the operation's input; test/hardening/served-contract.test.ts checks
 * that the two agree with the spec. (A zod check of every parsed request on top cost 2–3% of get-registered-
 * model's throughput, for nothing the parser does not already guarantee.)
 */
export async function parseRequest<K extends OperationId>(c: Context, op: OperationSpec & { operationId: K }, limits: LimitsConfig): Promise<OperationRequest<K>> {
  return (await parseFields(c, op, limits)) as Req as OperationRequest<K>;
}

async function parseFields(c: Context, op: OperationSpec, limits: LimitsConfig): Promise<Req> {
  const method = c.req.method;
  const url = c.req.url;
  const qIndex = url.indexOf('?');
  // Flask's `request.args` is falsy when the query string holds no pair (`?`, `?&`): the body is read then.
  const args = method === 'GET' && qIndex >= 0 ? parseQueryString(url.slice(qIndex + 1)) : [];
  let req: Req;
  if (method === 'GET' && args.length > 0) {
    const requestJson: Record<string, unknown> = {};
    for (const name in op.query) {
      const values = args.filter(([k]) => k === name).map(([, v]) => v);
      if (values.length === 0) continue;
      const kind = op.query[name]!;
      if (kind.kind === 'repeated') {
        requestJson[name] = values;
      } else {
        const value = values[0]!;
        if (kind.kind === 'bool') {
          if (!['true', 'false'].includes(value.toLowerCase())) {
            throw MlflowError.invalid(`Invalid boolean value: ${value}, must be 'true' or 'false'.`);
          }
          requestJson[name] = value.toLowerCase() === 'true';
        } else {
          requestJson[name] = value;
        }
      }
    }
    req = loadRequest(op.query, requestJson);
  } else if (op.body && op.body.kind === 'message') {
    checkJsonContentType(method, c.req.header('content-type'));
    const body = await readBody(c, 'Request body', { maxBytes: limits.maxJsonBodyBytes, timeoutMs: limits.bodyTimeoutMs });
    req = loadRequest(op.body.fields, normalizeJson(body));
  } else if (method === 'GET' && Object.keys(op.query).length > 0) {
    // MLflow reads a GET without a query string from its JSON body.
    req = loadRequest(op.query, normalizeJson(await getRequestBody(c, limits)));
  } else {
    req = new Req({}, {}, true);
  }
  for (const p of op.pathParams) {
    const v = c.req.param(p);
    if (v !== undefined) req.fields[p] = v;
  }
  return req;
}
