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
 * is. Missing fields stay absent: the registry layer applies proto2 defaults.
 */
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { MlflowError } from '../errors.js';
import type { FieldKind } from './field-kind.js';
import type { OperationSpec } from '../gen/operations.gen.js';
import type { LimitsConfig } from '../config.js';
import { Req, type RequestFields } from '../registry/req.js';

export type { Req };

type Fields = Readonly<Record<string, FieldKind>>;

class ParseError extends Error {}

/** protobuf's ToJsonName: `archive_existing_versions` -> `archiveExistingVersions`. */
function jsonName(name: string): string {
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
function normalizeJson(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      throw MlflowError.invalid('Invalid JSON in request body');
    }
  }
  return isDict(parsed) ? parsed : {};
}

/** Body of a GET: the fetch API drops it, so it is read from the Node request when there is one. */
async function getRequestBody(c: Context): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded) return '';
  const length = incoming.headers['content-length'];
  if ((length === undefined || length === '0') && incoming.headers['transfer-encoding'] === undefined) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses the request of `op` into plain fields (snake_case, as in the spec). */
export async function parseRequest(c: Context, op: OperationSpec, _limits: LimitsConfig): Promise<Req> {
  const method = c.req.method;
  const url = c.req.url;
  const qIndex = url.indexOf('?');
  const hasQuery = qIndex >= 0 && qIndex < url.length - 1;
  let req: Req;
  if (method === 'GET' && hasQuery) {
    const params = new URLSearchParams(url.slice(qIndex + 1));
    const requestJson: Record<string, unknown> = {};
    for (const name in op.query) {
      if (!params.has(name)) continue;
      const kind = op.query[name]!;
      if (kind.kind === 'repeated') {
        requestJson[name] = params.getAll(name);
      } else {
        const value = params.get(name)!;
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
    req = loadRequest(op.body.fields, normalizeJson(await c.req.text()));
  } else if (method === 'GET' && Object.keys(op.query).length > 0) {
    // MLflow reads a GET without a query string from its JSON body.
    req = loadRequest(op.query, normalizeJson(await getRequestBody(c)));
  } else {
    req = new Req({}, {}, true);
  }
  for (const p of op.pathParams) {
    const v = c.req.param(p);
    if (v !== undefined) req.fields[p] = v;
  }
  return req;
}
