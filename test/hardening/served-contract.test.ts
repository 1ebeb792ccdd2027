/**
 * The contract both ways, on the server as it is wired (createServer): the routes it serves are exactly
 * the spec's operations (and their /ajax-api twins) plus the routes the spec lists outside them, and the
 * typed input each handler receives (gen/inputs.gen.ts, as JSON Schema) and the field kinds the request parser
 * reads into it (gen/operations.gen.ts) have exactly the fields of the
 * operation's request in the spec — query and path parameters and JSON body — with the same kinds.
 * A route added by hand, a route the spec dropped, or a stale generated input fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, scratchDir } from '../helpers/process.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createLogger } from '../../packages/server/src/log.js';
import { createServer, type Server } from '../../packages/server/src/server.js';
import { operationInputs } from '../../packages/server/src/gen/inputs.gen.js';
import { operations, type OperationId } from '../../packages/server/src/gen/operations.gen.js';
import type { FieldKind } from '../../packages/server/src/http/field-kind.js';

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  allOf?: Schema[];
};
type Operation = {
  operationId: string;
  parameters?: ({ $ref?: string; name: string; in: string; schema?: Schema })[];
  requestBody?: { $ref?: string; content?: Record<string, { schema?: Schema }> };
};
interface Spec {
  paths: Record<string, Record<string, Operation> & { parameters?: Operation['parameters'] }>;
  'x-mlflow-routes-outside-operations': { method: string; path: string }[];
  components: Record<string, Record<string, unknown>>;
}

const spec = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../openapi/openapi.json'), 'utf8')) as Spec;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function deref<T>(obj: T & { $ref?: string }): T {
  let cur: unknown = obj;
  while (cur && typeof cur === 'object' && typeof (cur as { $ref?: unknown }).$ref === 'string') {
    const ref = (cur as { $ref: string }).$ref;
    cur = ref.slice(2).split('/').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec);
  }
  return cur as T;
}

/**
 * A schema reduced to what a request field is to the parser: string, integer, boolean, an enum (by its
 * values), a list of something, or an object of named fields. Bounds, patterns and prose are MLflow's
 * checks and the docs; they are compared against the server elsewhere (schemathesis, spec-exactness).
 */
function kind(s0: Schema): unknown {
  const s = deref(s0);
  if (s.allOf?.length === 1) return kind(s.allOf[0]!);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (s.enum && (type === 'string' || type === undefined)) return { enum: s.enum.map(String).sort() };
  if (type === 'number') return 'integer';
  if (type === 'array') return [kind(s.items ?? {})];
  if (type === 'object' || type === undefined) return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, kind(v)]));
  return type;
}

/** The same reduction of the JSON Schema zod writes for a generated input (enums: name or number). */
function inputKind(s: Record<string, unknown>): unknown {
  if (Array.isArray(s.anyOf)) {
    const named = (s.anyOf as Record<string, unknown>[]).find((x) => Array.isArray(x.enum));
    if (named) return { enum: (named.enum as unknown[]).map(String).sort() };
  }
  if (s.type === 'array') return [inputKind(s.items as Record<string, unknown>)];
  if (s.type === 'object') {
    const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
    return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, inputKind(v)]));
  }
  return s.type === 'number' ? 'integer' : s.type;
}

/** The same reduction of the field kinds the request parser reads (gen/operations.gen.ts). */
function parserKind(k: FieldKind): unknown {
  switch (k.kind) {
    case 'string':
      return 'string';
    case 'int32':
    case 'int64':
      return 'integer';
    case 'bool':
      return 'boolean';
    case 'enum':
      return { enum: [...k.values].sort() };
    case 'repeated':
      return [parserKind(k.item)];
    case 'message':
      return Object.fromEntries(Object.entries(k.fields).map(([n, f]) => [n, parserKind(f)]));
  }
}

function parserRequest(id: OperationId): Record<string, unknown> {
  const op = operations[id];
  const fields: Record<string, unknown> = Object.fromEntries(Object.entries(op.query).map(([n, k]) => [n, parserKind(k)]));
  if (op.body?.kind === 'message') Object.assign(fields, parserKind(op.body) as Record<string, unknown>);
  for (const p of op.pathParams) fields[p] = 'string';
  return fields;
}

function specRequest(item: Spec['paths'][string], op: Operation): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const raw of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
    const p = deref(raw);
    if (p.in === 'query' || p.in === 'path') fields[p.name] = p.in === 'path' ? 'string' : kind(p.schema ?? { type: 'string' });
  }
  const body = op.requestBody ? deref(op.requestBody) : undefined;
  const json = body?.content?.['application/json']?.schema;
  if (json) Object.assign(fields, kind(json) as Record<string, unknown>);
  return fields;
}

const honoPath = (p: string) => p.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, n: string) => (n === 'artifact_path' ? `:${n}{[\\s\\S]+}` : `:${n}`));

describe('the served contract equals the spec', () => {
  let dir: string;
  let server: Server;

  beforeAll(async () => {
    dir = scratchDir('served-contract');
    const ui = path.join(dir, 'ui');
    fs.mkdirSync(path.join(ui, 'static-files'), { recursive: true });
    fs.writeFileSync(path.join(ui, 'index.html'), '<html></html>');
    // Every optional surface on, so that every route the spec names is mounted.
    const config = loadConfig({ DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent', METRICS_ENABLED: 'true', MLFLOW_UI_DIR: ui, MLFLOW_ENABLE_WORKSPACES: 'true' });
    server = await createServer(config, createLogger('silent'));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (dir) removeDir(dir);
  });

  it('serves every operation of the spec and its /ajax-api twin, and nothing the spec does not name', () => {
    const expected = new Set<string>();
    for (const [p, item] of Object.entries(spec.paths)) {
      for (const m of METHODS) {
        if (!item[m]) continue;
        const hp = honoPath(p);
        expected.add(`${m.toUpperCase()} ${hp}`);
        if (/^\/api\/[23]\.0\//.test(hp)) expected.add(`${m.toUpperCase()} ${hp.replace(/^\/api\//, '/ajax-api/')}`);
      }
    }
    for (const r of spec['x-mlflow-routes-outside-operations']) expected.add(`${r.method} ${honoPath(r.path)}`);
    const served = new Set<string>();
    for (const r of server.app.routes) {
      // Middleware (`*` paths, method ALL) and the 405 answers of known paths are not routes of their own.
      if (r.method === 'ALL') continue;
      served.add(`${r.method} ${r.path}`);
    }
    // HEAD is answered by every GET route (Hono), as Flask does; it is not a route of its own here.
    expect([...served].filter((r) => !expected.has(r)).sort()).toEqual([]);
    expect([...expected].filter((r) => !served.has(r)).sort()).toEqual([]);
  });

  it("gives each handler exactly the fields of its operation's request, with the spec's kinds, as the parser reads them", () => {
    const checked: string[] = [];
    for (const [p, item] of Object.entries(spec.paths)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        const schema = (operationInputs as Record<string, z.ZodType>)[op.operationId];
        expect(schema, `${op.operationId} has a generated input`).toBeDefined();
        const served = inputKind(z.toJSONSchema(schema!, { io: 'output' }) as Record<string, unknown>);
        expect({ op: op.operationId, fields: served }).toEqual({ op: op.operationId, fields: specRequest(item, op) });
        // The parser fills the input from these kinds: they must be the input's.
        expect({ op: op.operationId, fields: parserRequest(op.operationId as OperationId) }).toEqual({ op: op.operationId, fields: served });
        checked.push(`${m} ${p}`);
      }
    }
    expect(Object.keys(operationInputs).sort()).toEqual(
      Object.values(spec.paths).flatMap((item) => METHODS.flatMap((m) => (item[m] ? [item[m]!.operationId] : []))).sort(),
    );
    expect(checked.length).toBeGreaterThan(60);
  });
});
