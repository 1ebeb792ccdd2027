/**
 * Code generation from the contract (openapi/openapi.yaml). Run with `pnpm gen`; CI runs it and fails
 * on any difference (`pnpm check:gen`). Writes, and nobody edits by hand:
 *   openapi/openapi.json                      the bundled spec (served at /openapi.json)
 *   packages/client/src/gen/                  hey-api: types, zod schemas, sdk functions, fetch client
 *   packages/server/src/gen/api/              hey-api: types the handlers are checked against
 *   packages/server/src/gen/operations.gen.ts the route table with the request field kinds the
 *                                             MLflow-style request parser coerces to
 *   packages/server/src/gen/enums.gen.ts      the values of the spec's named string enums, in the
 *                                             spec's order (for the protobuf numbers, see there)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createClient } from '@hey-api/openapi-ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const specYaml = path.join(root, 'openapi/openapi.yaml');
const specJson = path.join(root, 'openapi/openapi.json');

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; parameters?: Record<string, Parameter>; requestBodies?: Record<string, unknown> };
};
type Parameter = { $ref?: string; name: string; in: string; required?: boolean; schema?: Schema };
type Operation = {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { $ref?: string; content?: Record<string, { schema?: Schema }> };
};

/** Field kinds the request parser understands; mirrors the protobuf field types MLflow parses into. */
export type FieldKind =
  | { kind: 'string' }
  | { kind: 'int64' }
  | { kind: 'int32' }
  | { kind: 'bool' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'message'; fields: Record<string, FieldKind> }
  | { kind: 'repeated'; item: FieldKind };

function resolve<T>(spec: Spec, obj: T & { $ref?: string }): T {
  let cur: unknown = obj;
  for (let i = 0; i < 20 && cur && typeof cur === 'object' && '$ref' in cur && typeof (cur as { $ref: unknown }).$ref === 'string'; i++) {
    const ref = (cur as { $ref: string }).$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    cur = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return cur as T;
}

function kindOf(spec: Spec, schema0: Schema, depth = 0): FieldKind {
  if (depth > 10) throw new Error('schema nesting too deep');
  const schema = resolve(spec, schema0);
  if (schema.allOf?.length === 1) return kindOf(spec, schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.enum && (type === 'string' || type === undefined)) return { kind: 'enum', values: schema.enum.map(String) };
  switch (type) {
    case 'string':
      return { kind: 'string' };
    case 'integer':
      return { kind: schema.format === 'int32' ? 'int32' : 'int64' };
    case 'number':
      return { kind: 'int64' };
    case 'boolean':
      return { kind: 'bool' };
    case 'array':
      return { kind: 'repeated', item: kindOf(spec, schema.items ?? {}, depth + 1) };
    case 'object':
    case undefined: {
      const fields: Record<string, FieldKind> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) fields[k] = kindOf(spec, v, depth + 1);
      return { kind: 'message', fields };
    }
    default:
      throw new Error(`unsupported schema type ${String(type)}`);
  }
}

function honoPath(p: string): string {
  // `[\s\S]+` rather than `.+`: a path with an encoded line break must still reach the path checks.
  return p.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => (name === 'artifact_path' ? `:${name}{[\\s\\S]+}` : `:${name}`));
}

function operationsModule(spec: Spec): string {
  const ops: string[] = [];
  const ids: string[] = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${p} has no operationId`);
      const query: Record<string, FieldKind> = {};
      const pathParams: string[] = [];
      for (const raw of [...((item as { parameters?: Parameter[] }).parameters ?? []), ...(op.parameters ?? [])]) {
        const prm = resolve(spec, raw);
        if (prm.in === 'query') query[prm.name] = kindOf(spec, prm.schema ?? { type: 'string' });
        if (prm.in === 'path') pathParams.push(prm.name);
      }
      let body: FieldKind | null = null;
      let bodyType: string | null = null;
      const rb = op.requestBody ? resolve(spec, op.requestBody) : undefined;
      if (rb?.content) {
        const [ct, media] = Object.entries(rb.content)[0]!;
        bodyType = ct;
        if (ct === 'application/json' && media.schema) body = kindOf(spec, media.schema);
      }
      ids.push(op.operationId);
      ops.push(
        `  ${op.operationId}: ${JSON.stringify({
          operationId: op.operationId,
          method: method.toUpperCase(),
          path: p,
          honoPath: honoPath(p),
          pathParams,
          query,
          bodyType,
          body,
        })},`,
      );
    }
  }
  return `// Generated by scripts/gen.ts from openapi/openapi.yaml. Do not edit; run \`pnpm gen\`.
/* eslint-disable */
import type { FieldKind } from '../http/field-kind.js';

export interface OperationSpec {
  readonly operationId: OperationId;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path as written in the spec. */
  readonly path: string;
  /** Path in Hono's syntax. */
  readonly honoPath: string;
  readonly pathParams: readonly string[];
  /** Query parameters and their kinds (GET requests). */
  readonly query: Readonly<Record<string, FieldKind>>;
  /** Request body media type, if the operation takes one. */
  readonly bodyType: string | null;
  /** Kind of the JSON request body, if any. */
  readonly body: FieldKind | null;
}

export type OperationId =
${ids.map((i) => `  | '${i}'`).join('\n')};

export const operations: Readonly<Record<OperationId, OperationSpec>> = {
${ops.join('\n')}
};
`;
}

/**
 * The values of every named string enum in components.schemas, in the spec's order. The spec lists
 * the enums that mirror MLflow's protobuf enums in proto number order (1, 2, …), so the position of a
 * value gives its number; code that accepts numeric enum input (as ParseDict does) relies on that.
 */
function enumsModule(spec: Spec): string {
  const entries: string[] = [];
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
    if (schema.type !== 'string' || !schema.enum) continue;
    entries.push(`  ${name}: ${JSON.stringify(schema.enum.map(String))},`);
  }
  return `// Generated by scripts/gen.ts from openapi/openapi.yaml. Do not edit; run \`pnpm gen\`.
/* eslint-disable */

/**
 * The values of each named string enum of the spec (components.schemas), in the spec's order. Enums
 * that mirror MLflow's protobuf enums are listed in proto number order: the value at index i has
 * number i + 1 (0 is the proto's UNSPECIFIED default, which the spec leaves out).
 */
export const enumValues = {
${entries.join('\n')}
} as const;
`;
}

async function main() {
  const spec = parse(fs.readFileSync(specYaml, 'utf8')) as Spec;
  fs.writeFileSync(specJson, JSON.stringify(spec, null, 2) + '\n');

  const serverGen = path.join(root, 'packages/server/src/gen');
  fs.mkdirSync(serverGen, { recursive: true });
  fs.writeFileSync(path.join(serverGen, 'operations.gen.ts'), operationsModule(spec));
  fs.writeFileSync(path.join(serverGen, 'enums.gen.ts'), enumsModule(spec));

  await createClient([
    {
      input: specJson,
      output: { path: path.join(root, 'packages/client/src/gen') },
      logs: { level: 'silent' },
      plugins: [
        // Our spec names its response schemas <Operation>Response; hey-api's per-operation response
        // types get a different suffix so neither is renamed with a '2'.
        { name: '@hey-api/typescript', responses: { response: '{{name}}Result' } },
        'zod',
        { name: '@hey-api/sdk', validator: true },
        { name: '@hey-api/client-fetch' },
      ],
    },
    {
      input: specJson,
      output: { path: path.join(serverGen, 'api') },
      logs: { level: 'silent' },
      plugins: [{ name: '@hey-api/typescript', responses: { response: '{{name}}Result' } }],
    },
  ]);
  console.log('generated: openapi/openapi.json, packages/client/src/gen, packages/server/src/gen');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
