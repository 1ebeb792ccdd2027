/**
 * MLflow's handler-level schema checks (mlflow/server/handlers.py `_validate_param_against_schema`)
 * with their exact messages, and the Python value rendering they use. The HTTP handlers run them before
 * calling a service with the typed input (gen/inputs.gen.ts).
 */
import { MlflowError } from '../errors.js';
import type { OperationId } from '../gen/operations.gen.js';
import type { OperationInput } from '../gen/inputs.gen.js';

export type RequestFields = Record<string, unknown>;

/**
 * What MLflow's handler-level checks read: the request dict as the client sent it, and whether
 * protobuf's ParseDict took all of it (when it stopped early, the checks look at the raw values).
 */
export interface RawRequest {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly parseOk: boolean;
}

/** A parsed request with its typed input (gen/inputs.gen.ts), for the services that also read the raw values. */
export interface ParsedRequest<I extends object> extends RawRequest {
  readonly fields: I;
}

/** The handler-level schema of one operation: for each field, its checks in order. */
export type RequestSchema = Readonly<Record<string, readonly Check[]>>;

/** Handler-level schemas by operation, each naming only fields of that operation's input (a misspelt one does not compile). */
export type RequestChecks = { readonly [K in OperationId]?: { readonly [F in keyof OperationInput<K> & string]?: readonly Check[] } };

/**
 * Python's json.dumps(value, sort_keys=True, separators=(",", ":")) with ensure_ascii, for messages.
 * Iterative (an explicit stack, no recursion), so no input nests deep enough to overflow the call stack.
 */
export function pyJson(value: unknown): string {
  const parts: string[] = [];
  // Work items: a value to write, or a literal piece of punctuation.
  const stack: ({ v: unknown } | string)[] = [{ v: value ?? null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      parts.push(item);
      continue;
    }
    const v = item.v;
    if (v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      parts.push(JSON.stringify(v) ?? 'null');
    } else if (Array.isArray(v)) {
      const next: ({ v: unknown } | string)[] = ['['];
      v.forEach((x, i) => {
        if (i > 0) next.push(',');
        // JSON.stringify writes undefined, functions and symbols in arrays as null.
        next.push({ v: x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x });
      });
      next.push(']');
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
    } else {
      const rec = v as Record<string, unknown>;
      // JSON.stringify leaves out properties whose value is undefined, a function or a symbol.
      const keys = Object.keys(rec)
        .filter((k) => rec[k] !== undefined && typeof rec[k] !== 'function' && typeof rec[k] !== 'symbol')
        .sort();
      const next: ({ v: unknown } | string)[] = ['{'];
      keys.forEach((k, i) => {
        next.push((i > 0 ? ',' : '') + JSON.stringify(k) + ':');
        next.push({ v: rec[k] });
      });
      next.push('}');
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
    }
  }
  return parts.join('').replace(/[\u007f-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

export function invalidValueError(param: string, value: unknown): MlflowError {
  return MlflowError.invalid(
    `Invalid value ${pyJson(value)} for parameter '${param}' supplied:  Hint: Value was of type '${pyTypeName(value)}'. ` +
      'See the API docs for more information about request parameters.',
  );
}


/**
 * Python's `int(x)` of a JSON value: a str in Python's integer syntax (sign, single underscores
 * between digits, surrounding whitespace), a number truncated, a bool as 0/1; undefined where Python
 * raises. The handler checks use it (`_assert_intlike`, the `int(x) <= max` range lambdas).
 */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) || 0 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^[\s]*([+-]?)([0-9](?:_?[0-9])*)[\s]*$/.exec(value);
  return m ? Number(m[1] + m[2]!.replaceAll('_', '')) || 0 : undefined;
}

export type Check = 'required' | 'string' | 'intlike' | 'bool' | 'array' | 'itemString' | ((value: unknown) => boolean);
const TYPE_CHECKS = new Set<Check>(['string', 'intlike', 'bool', 'array', 'itemString']);

function passes(check: Check, v: unknown): boolean {
  switch (check) {
    case 'required':
      return v !== null && v !== undefined && v !== '';
    case 'string':
      return typeof v === 'string';
    case 'intlike':
      // `_assert_intlike`: int(x) must succeed (MLflow answers 500 where int() raises TypeError, e.g. for a list).
      return pyInt(v) !== undefined;
    case 'bool':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'itemString':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    default:
      return check(v);
  }
}

/**
 * Runs a handler's schema: for each listed field that is present (or required), its checks in order.
 * Type checks run only when parsing failed, as in MLflow (parsing already proved the types otherwise).
 */
export function checkSchema(req: RawRequest, schema: RequestSchema): void {
  for (const param in schema) {
    const checks = schema[param]!;
    if (!(param in req.raw) && !checks.includes('required')) continue;
    const value = req.raw[param];
    for (const check of checks) {
      if (TYPE_CHECKS.has(check) && req.parseOk) continue;
      if (passes(check, value)) continue;
      if (check === 'required') {
        throw MlflowError.invalid(`Missing value for required parameter '${param}'. See the API docs for more information about request parameters.`);
      }
      throw invalidValueError(param, value);
    }
  }
}
