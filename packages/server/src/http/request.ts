/**
 * Request parsing with MLflow's semantics (mlflow/server/handlers.py `_get_request_message`):
 * GET parameters from the query string (a repeated field given once is still a list), JSON bodies
 * otherwise; unknown fields ignored; numbers accepted as numeric strings; Content-Type checked only
 * on POST and PUT. The field kinds come from the spec (gen/operations.gen.ts), so the contract decides
 * what a field is. Missing fields stay absent: the registry layer applies proto2 defaults.
 */
import type { Context } from 'hono';
import { MlflowError } from '../errors.js';
import type { FieldKind } from './field-kind.js';
import type { OperationSpec } from '../gen/operations.gen.js';
import { Req, type RequestFields } from '../registry/req.js';

export type { Req };

const INT_RE = /^\s*[+-]?\d+\s*$/;

class Mismatch {}
const MISMATCH = new Mismatch();

/** Mirrors protobuf's ParseDict: coerce one value to its kind, or report a mismatch. */
function coerce(kind: FieldKind, value: unknown): unknown {
  switch (kind.kind) {
    case 'string':
      return typeof value === 'string' ? value : MISMATCH;
    case 'int64':
    case 'int32':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string' && INT_RE.test(value)) return Number(value.trim());
      return MISMATCH;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return MISMATCH;
    case 'enum':
      if (typeof value === 'string' && kind.values.includes(value)) return value;
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      return MISMATCH;
    case 'repeated': {
      if (!Array.isArray(value)) return MISMATCH;
      const out: unknown[] = [];
      for (const item of value) {
        const c = coerce(kind.item, item);
        if (c === MISMATCH) return MISMATCH;
        out.push(c);
      }
      return out;
    }
    case 'message': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return MISMATCH;
      return coerceMessage(kind.fields, value as Record<string, unknown>);
    }
  }
}

function coerceMessage(fields: Readonly<Record<string, FieldKind>>, input: Record<string, unknown>): RequestFields | Mismatch {
  const out: RequestFields = {};
  for (const name in fields) {
    const value = input[name];
    // ParseDict treats JSON null as "not set".
    if (value === undefined || value === null) continue;
    const c = coerce(fields[name]!, value);
    if (c === MISMATCH) return MISMATCH;
    out[name] = c;
  }
  return out;
}

/**
 * ParseDict of the top-level message: fields of the wrong type are left out and reported through
 * `parseOk = false`; the registry layer's handler-level checks then run MLflow's type assertions on
 * the raw values (handlers.py `_validate_param_against_schema`), giving MLflow's exact messages.
 */
function coerceTopLevel(fields: Readonly<Record<string, FieldKind>>, input: Record<string, unknown>): Req {
  const out: RequestFields = {};
  const raw: Record<string, unknown> = {};
  let parseOk = true;
  for (const name in fields) {
    const value = input[name];
    if (value === undefined) continue;
    raw[name] = value;
    if (value === null) continue;
    const c = coerce(fields[name]!, value);
    if (c === MISMATCH) parseOk = false;
    else out[name] = c;
  }
  return new Req(out, raw, parseOk);
}

export function checkJsonContentType(method: string, contentType: string | undefined): void {
  if (method !== 'POST' && method !== 'PUT') return;
  if (contentType === undefined || contentType === '') {
    throw MlflowError.invalid('Bad Request. Content-Type header is missing.');
  }
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    throw MlflowError.invalid("Bad Request. Content-Type must be one of ['application/json'].");
  }
}

async function readJsonBody(c: Context, method: string): Promise<Record<string, unknown>> {
  checkJsonContentType(method, c.req.header('content-type'));
  const text = await c.req.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null; // Flask get_json(force=True, silent=True): invalid JSON reads as nothing
  }
  if (typeof parsed === 'string') {
    // Older clients double-encode the body.
    try {
      parsed = JSON.parse(parsed);
    } catch {
      throw MlflowError.invalid('Invalid JSON in request body');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  return parsed as Record<string, unknown>;
}

/** Parses the request of `op` into plain fields (snake_case, as in the spec). */
export async function parseRequest(c: Context, op: OperationSpec): Promise<Req> {
  const method = c.req.method;
  const url = c.req.url;
  const qIndex = url.indexOf('?');
  const hasQuery = qIndex >= 0 && qIndex < url.length - 1;
  let req: Req;
  if (method === 'GET' && hasQuery) {
    const params = new URLSearchParams(url.slice(qIndex + 1));
    const raw: Record<string, unknown> = {};
    for (const name in op.query) {
      if (!params.has(name)) continue;
      const kind = op.query[name]!;
      if (kind.kind === 'repeated') {
        raw[name] = params.getAll(name);
      } else {
        const value = params.get(name)!;
        if (kind.kind === 'bool' && !['true', 'false'].includes(value.toLowerCase())) {
          throw MlflowError.invalid(`Invalid boolean value: ${value}, must be 'true' or 'false'.`);
        }
        raw[name] = kind.kind === 'bool' ? value.toLowerCase() === 'true' : value;
      }
    }
    req = coerceTopLevel(op.query, raw);
  } else if (op.body && op.body.kind === 'message') {
    req = coerceTopLevel(op.body.fields, await readJsonBody(c, method));
  } else if (method === 'GET' && Object.keys(op.query).length > 0) {
    // MLflow reads a GET without a query string from its JSON body.
    let body: Record<string, unknown> = {};
    try {
      const text = await c.req.text();
      const parsed: unknown = text ? JSON.parse(text) : {};
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = {};
    }
    req = coerceTopLevel(op.query, body);
  } else {
    req = new Req({}, {}, true);
  }
  for (const p of op.pathParams) {
    const v = c.req.param(p);
    if (v !== undefined) req.fields[p] = v;
  }
  return req;
}
