/**
 * Response validation against the spec (issue 17): given a request's method and path (as sent, with the
 * /api/2.0 or /ajax-api/2.0 prefix, path parameters and query) and the response's status, Content-Type and
 * body, finds the operation in openapi/openapi.json (the bundled openapi.yaml) and checks the response
 * against what the spec declares for that status: a documented status, a documented media type, and for
 * JSON the schema (types, required, enum, pattern, lengths, ranges, int32/int64, items) with no field the
 * spec does not declare (an object without `additionalProperties` is closed: an undeclared field is drift).
 * Error bodies are checked against the error response the spec declares for the status (ErrorResponse).
 *
 * Suites opt in with `useSpecValidation()`: while it is on, every response that goes through the test
 * helpers (TestServer.fetch/call, the registry Client, the artifact rawRequest, `specFetch`) is recorded and
 * checked, and a test fails (in afterEach) when one of its responses disagrees with the spec. Known,
 * explained deviations are listed in KNOWN_DEVIATIONS below.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
};
type Media = { schema?: JsonSchema };
type ResponseObject = { $ref?: string; content?: Record<string, Media> };
export type Operation = { operationId: string; responses: Record<string, ResponseObject> };

const spec = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, ResponseObject> };
};

const routes = Object.entries(spec.paths).flatMap(([p, item]) =>
  Object.entries(item)
    .filter(([m]) => ['get', 'head', 'post', 'put', 'patch', 'delete'].includes(m))
    .map(([m, op]) => ({
      method: m.toUpperCase(),
      // {artifact_path} spans segments; every other path parameter is one segment.
      re: new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_x, name: string) => (name === 'artifact_path' ? '.+' : '[^/]+'))}$`),
      op,
    })),
);

/** The path a request names in the spec: without its query, /ajax-api/ served as /api/. */
const specPath = (requestPath: string) => requestPath.replace(/[?#].*$/s, '').replace(/^\/ajax-api\//, '/api/');

/** The spec operation a request reaches. */
export function findOperation(method: string, requestPath: string): Operation | undefined {
  const p = specPath(requestPath);
  const m = method.toUpperCase();
  // A HEAD is answered as its GET (without the body) unless the spec declares it.
  const matches = (x: (typeof routes)[number]) => x.re.test(p);
  return (routes.find((x) => x.method === m && matches(x)) ?? (m === 'HEAD' ? routes.find((x) => x.method === 'GET' && matches(x)) : undefined))?.op;
}

function resolve(schema: JsonSchema): JsonSchema {
  let cur = schema;
  while (cur.$ref) cur = spec.components.schemas[cur.$ref.replace('#/components/schemas/', '')]!;
  return cur;
}

const mergedCache = new WeakMap<JsonSchema, JsonSchema>();

/** `schema` with its $ref followed and its allOf parts merged into one (properties and required). */
export function deref(schema: JsonSchema): JsonSchema {
  const cur = resolve(schema);
  if (!cur.allOf) return cur;
  let m = mergedCache.get(cur);
  if (!m) mergedCache.set(cur, (m = mergeAllOf(cur)));
  return m;
}

function mergeAllOf(cur: JsonSchema): JsonSchema {
  const merged: JsonSchema = { ...cur, properties: { ...cur.properties }, required: [...(cur.required ?? [])] };
  delete merged.allOf;
  for (const part of (cur.allOf ?? []).map(deref)) {
    Object.assign(merged.properties!, part.properties);
    merged.required!.push(...(part.required ?? []));
    for (const k of ['type', 'additionalProperties'] as const) if (part[k] !== undefined && merged[k] === undefined) (merged as Record<string, unknown>)[k] = part[k];
  }
  return merged;
}

const kind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

function show(v: unknown): string | undefined {
  return JSON.stringify(v)?.slice(0, 80);
}

function alternatives(schema: JsonSchema, value: unknown, at: string, out: string[]): void {
  for (const key of ['oneOf', 'anyOf'] as const) {
    const alts = schema[key];
    if (!alts) continue;
    const ok = alts.filter((s) => schemaProblems(s, value, at).length === 0).length;
    if (key === 'oneOf' ? ok !== 1 : ok === 0) out.push(`${at}: ${show(value)} matches ${ok} of the ${key} alternatives`);
  }
}

const patterns = new Map<string, RegExp>();
function regex(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    // JSON Schema patterns are ECMA-262 with Unicode semantics; a few are written without (identity escapes).
    try {
      re = new RegExp(p, 'u');
    } catch {
      re = new RegExp(p);
    }
    patterns.set(p, re);
  }
  return re;
}

const RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  // int64 values are JSON numbers; those a JavaScript client reads exactly are the safe integers.
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/**
 * Schema violations of `value` (JSON) against `schema0`, as `<path>: <problem>` strings appended to `out`.
 * Strict: a property an object schema does not declare is a violation unless `additionalProperties` allows it.
 */
export function schemaProblems(schema0: JsonSchema, value: unknown, at = '$', out: string[] = []): string[] {
  const schema = deref(schema0);
  const k = kind(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.includes(k) && !(k === 'integer' && types.includes('number'))) {
      out.push(`${at}: expected ${types.join('|')}, got ${show(value)}`);
      return out;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) out.push(`${at}: ${show(value)} is not one of ${show(schema.enum)}`);
  if (schema.const !== undefined && schema.const !== value) out.push(`${at}: ${show(value)} is not ${show(schema.const)}`);
  if (schema.oneOf || schema.anyOf) alternatives(schema, value, at, out);
  if (typeof value === 'string') {
    let len = 0; // code points, as JSON Schema counts
    for (const _ of value) len++;
    if (schema.minLength !== undefined && len < schema.minLength) out.push(`${at}: shorter than ${schema.minLength}: ${show(value)}`);
    if (schema.maxLength !== undefined && len > schema.maxLength) out.push(`${at}: longer than ${schema.maxLength}: ${show(value)}`);
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) out.push(`${at}: ${show(value)} does not match ${schema.pattern}`);
  } else if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: ${value} > maximum ${schema.maximum}`);
    const range = schema.format ? RANGES[schema.format] : undefined;
    if (range && (value < range[0] || value > range[1])) out.push(`${at}: ${value} is out of the ${schema.format} range`);
  } else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items) for (let i = 0; i < value.length; i++) schemaProblems(schema.items, value[i], `${at}[${i}]`, out);
  } else if (k === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) out.push(`${at}: missing required field ${r}`);
    const extra = schema.additionalProperties;
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key] ?? (typeof extra === 'object' ? extra : undefined);
      if (prop) schemaProblems(prop, v, `${at}.${key}`, out);
      else if (extra !== true) out.push(`${at}.${key}: not declared by the spec`);
    }
  }
  return out;
}

export interface SeenResponse {
  method: string;
  /** The request path as sent (prefix, path parameters and query included). */
  path: string;
  status: number;
  /** The Content-Type header ('' when absent). */
  contentType: string;
  /** The body as text (JSON bodies are parsed here). */
  text: string;
}

/** The response object the spec declares for `status`: the exact code, then its range (`4XX`), then `default`. */
function declaredResponse(op: Operation, status: number): ResponseObject | undefined {
  const r = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
  return r?.$ref ? spec.components.responses[r.$ref.replace('#/components/responses/', '')] : r;
}

/** The declared media type matching a Content-Type (parameters ignored; `*\/*` and `type/*` match). */
function declaredMedia(content: Record<string, Media>, contentType: string): [string, Media] | undefined {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  return Object.entries(content).find(([m]) => m === ct || m === '*/*' || (m.endsWith('/*') && ct.startsWith(m.slice(0, -1))));
}

/** How `r` disagrees with the spec: an empty list when it agrees. */
export function responseProblems(r: SeenResponse): string[] {
  const where = `${r.method} ${r.path} → ${r.status}`;
  const op = findOperation(r.method, r.path);
  if (!op) {
    // No operation to document it: the server answers with the spec's error envelope (ErrorResponse, whose
    // codes include ENDPOINT_NOT_FOUND), 405 when the path has operations for other methods, else 404.
    const expected = routes.some((x) => x.re.test(specPath(r.path))) ? 405 : 404;
    if (r.status !== expected) return [`${where}: no operation in the spec (expected a ${expected} error)`];
    return jsonProblems(where, 'ErrorResponse', r, { $ref: '#/components/schemas/ErrorResponse' });
  }
  const declared = declaredResponse(op, r.status);
  if (!declared) return [`${where}: status ${r.status} is not documented for ${op.operationId} (body ${r.text.slice(0, 200)})`];
  if (!declared.content) {
    return r.text === '' ? [] : [`${where}: ${op.operationId} documents no body for ${r.status}, got ${r.contentType}: ${r.text.slice(0, 200)}`];
  }
  const media = declaredMedia(declared.content, r.contentType);
  if (!media) return [`${where}: Content-Type '${r.contentType}' is not one the spec declares for ${op.operationId} ${r.status} (${Object.keys(declared.content).join(', ')})`];
  // A HEAD has no body to check; only JSON bodies have a schema to check here.
  if (r.method.toUpperCase() === 'HEAD' || media[0] !== 'application/json' || !media[1].schema) return [];
  return jsonProblems(where, op.operationId, r, media[1].schema);
}

function jsonProblems(where: string, what: string, r: SeenResponse, schema: JsonSchema): string[] {
  if (!/^application\/json\b/i.test(r.contentType)) return [`${where}: Content-Type '${r.contentType}', not application/json (${what})`];
  let body: unknown;
  try {
    body = JSON.parse(r.text);
  } catch {
    return [`${where}: ${what} declares JSON but the body is not JSON: ${r.text.slice(0, 200)}`];
  }
  return schemaProblems(schema, body, '$').map((p) => `${where} (${what}): ${p}`);
}

/**
 * Deviations that are known and explained, each kept visible here with its reason: a problem that matches one
 * is not a failure. `problem` is matched against the strings responseProblems returns.
 */
export const KNOWN_DEVIATIONS: { problem: RegExp; reason: string }[] = [];

/** responseProblems without the known deviations. */
export function unexplainedProblems(r: SeenResponse): string[] {
  return responseProblems(r).filter((p) => !KNOWN_DEVIATIONS.some((d) => d.problem.test(p)));
}

// ---- recording ------------------------------------------------------------------------------------------

let recording = false;
const problems: string[] = [];
/** Responses checked in this file, by `operationId status` (SPEC_RESPONSES_SUMMARY=1 prints them). */
const checked = new Map<string, number>();

/** Checks a response now, when validation is on (see useSpecValidation). */
export function recordResponse(r: SeenResponse): void {
  if (!recording) return;
  const key = `${findOperation(r.method, r.path)?.operationId ?? `${r.method} ${r.path}`} ${r.status}`;
  checked.set(key, (checked.get(key) ?? 0) + 1);
  problems.push(...unexplainedProblems(r));
}

/**
 * Records a fetch Response, when validation is on. JSON bodies are read from a clone (the caller still reads
 * the original); other bodies are not read (downloads can be large): status and Content-Type only.
 */
export async function recordFetchResponse(method: string, requestPath: string, res: Response): Promise<void> {
  if (!recording) return;
  const contentType = res.headers.get('content-type') ?? '';
  const json = /^application\/json\b/i.test(contentType);
  let text = '';
  if (json) {
    try {
      text = await res.clone().text();
    } catch {
      return; // the request was aborted mid-body by the test: nothing to check
    }
  } else if (res.status >= 400 || res.status === 204) {
    // A short non-JSON error body (text/html 401/403, or a body where none is documented) is checked whole.
    try {
      text = await res.clone().text();
    } catch {
      return;
    }
  } else {
    text = '(not read)';
  }
  recordResponse({ method, path: requestPath, status: res.status, contentType, text });
}

/** fetch(base + requestPath) with its response recorded: for servers the suites start outside TestServer. */
export async function specFetch(base: string, requestPath: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(base + requestPath, init);
  await recordFetchResponse(init?.method ?? 'GET', requestPath, res);
  return res;
}

/** Problems recorded so far (and forgets them). */
export function takeSpecProblems(): string[] {
  return problems.splice(0);
}

/**
 * Validates every response the file's tests receive through the test helpers against the spec: registers
 * hooks that turn recording on for the file and fail a test (afterEach) whose responses disagree with the
 * spec; problems recorded in beforeAll hooks fail the next test, those of afterAll hooks the file.
 */
export function useSpecValidation(): void {
  beforeAll(() => {
    recording = true;
  });
  afterEach(() => {
    const found = [...new Set(takeSpecProblems())];
    expect(found, 'responses that disagree with openapi/openapi.yaml').toEqual([]);
  });
  afterAll(() => {
    recording = false;
    if (process.env.SPEC_RESPONSES_SUMMARY === '1') {
      const total = [...checked.values()].reduce((a, b) => a + b, 0);
      console.log(`spec-responses: ${total} responses checked: ${JSON.stringify(Object.fromEntries([...checked].sort()))}`);
    }
    const found = [...new Set(takeSpecProblems())];
    expect(found, 'responses that disagree with openapi/openapi.yaml').toEqual([]);
  });
}
