/**
 * Building search filters that MLflow's parser reads back exactly (mlflow/utils/search_utils.py,
 * which tokenises with sqlparse). What that parser does, and so what this module does:
 *
 * - A string value is quoted with `'` or `"`, and the parser only cuts the first and last character
 *   off: there is no escape sequence (`'it''s'` is read as `it''s`). So a value containing `'` is
 *   quoted with `"` and one containing `"` with `'`. A value containing both, or ending in a
 *   backslash (sqlparse then reads the closing quote as escaped), cannot be written at all: this
 *   module throws a `RangeError` rather than build a filter that matches something else.
 * - A tag key that is not a plain identifier is written in backticks (`` tags.`my key` ``).
 * - In `LIKE` / `ILIKE` patterns `%` and `_` are wildcards; {@link escapeLike} makes a literal
 *   match (backslash escapes, the default of PostgreSQL and MySQL backends; SQLite has no default
 *   escape character).
 *
 * @example
 * ```ts
 * import { and, where, escapeLike } from '@mlflow-registry/client';
 *
 * const filter = and(where.name.eq("o'brien's model"), where.tag('team').like(`${escapeLike('ml_ops')}%`));
 * // name = "o'brien's model" AND tags.team LIKE 'ml\_ops%'
 * const models = await client.searchRegisteredModels({ filter }).toArray();
 * ```
 *
 * @module
 */

declare const clause: unique symbol;
/**
 * One comparison built by {@link where}; join several with {@link and}. A string at run time; the
 * brand keeps hand-written strings out of {@link and}.
 */
export type FilterClause = string & {
  /** @hidden */
  readonly [clause]: true;
};

/**
 * Quotes a string value for a filter: `'…'`, or `"…"` when the value contains `'`. Throws a
 * `RangeError` for a value MLflow's parser cannot read back (contains both quote characters, or
 * ends in a backslash).
 */
export function quoteValue(value: string): string {
  if (value.endsWith('\\')) throw new RangeError(`MLflow's filter grammar cannot express a value ending in a backslash: ${JSON.stringify(value)}`);
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new RangeError(`MLflow's filter grammar cannot express a value containing both ' and ": ${JSON.stringify(value)}`);
}

/** Escapes `\`, `%` and `_` so that a `LIKE`/`ILIKE` pattern matches them literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

/** Writes a tag key as `tags.<key>`, in backticks unless it is a plain identifier. */
function tagKey(key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `tags.${key}`;
  if (key.includes('`')) throw new RangeError(`A tag key containing a backtick cannot be written in a filter: ${JSON.stringify(key)}`);
  return `tags.\`${key}\``;
}

/** Comparisons on a string field. */
export interface StringField {
  /** `field = 'value'` (case-sensitive). */
  eq(value: string): FilterClause;
  /** `field != 'value'`. */
  ne(value: string): FilterClause;
  /** `field LIKE 'pattern'` (`%` any run, `_` one character; see {@link escapeLike}). */
  like(pattern: string): FilterClause;
  /** `field ILIKE 'pattern'` (case-insensitive LIKE). */
  ilike(pattern: string): FilterClause;
}

/** Comparisons on a field that also accepts a list (`IN`). */
export interface ListField extends StringField {
  /** `field IN ('a', 'b')`. */
  in(values: readonly string[]): FilterClause;
}

/** Comparisons on a numeric field. */
export interface NumericField {
  /** `field = n` (`n` an integer, else a `RangeError`). */
  eq(value: number): FilterClause;
  /** `field != n`. */
  ne(value: number): FilterClause;
  /** `field > n`. */
  gt(value: number): FilterClause;
  /** `field >= n`. */
  ge(value: number): FilterClause;
  /** `field < n`. */
  lt(value: number): FilterClause;
  /** `field <= n`. */
  le(value: number): FilterClause;
}

const c = (s: string) => s as FilterClause;

function stringField(field: string): StringField {
  return {
    eq: (v) => c(`${field} = ${quoteValue(v)}`),
    ne: (v) => c(`${field} != ${quoteValue(v)}`),
    like: (v) => c(`${field} LIKE ${quoteValue(v)}`),
    ilike: (v) => c(`${field} ILIKE ${quoteValue(v)}`),
  };
}

function listField(field: string): ListField {
  return {
    ...stringField(field),
    in: (values) => {
      if (values.length === 0) throw new RangeError(`${field} IN (): the list must not be empty`);
      return c(`${field} IN (${values.map(quoteValue).join(', ')})`);
    },
  };
}

function numericField(field: string): NumericField {
  const n = (v: number) => {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${field}: expected an integer, got ${v}`);
    return String(v);
  };
  return {
    eq: (v) => c(`${field} = ${n(v)}`),
    ne: (v) => c(`${field} != ${n(v)}`),
    gt: (v) => c(`${field} > ${n(v)}`),
    ge: (v) => c(`${field} >= ${n(v)}`),
    lt: (v) => c(`${field} < ${n(v)}`),
    le: (v) => c(`${field} <= ${n(v)}`),
  };
}

/**
 * The fields of MLflow's registry searches. Registered models: `name` and `tag(key)`. Model
 * versions: also `runId`, `sourcePath` and `versionNumber`.
 */
export const where: {
  /** `name`: the registered model's name (both searches). */
  readonly name: ListField;
  /** `run_id` (model versions). */
  readonly runId: ListField;
  /** `source_path` (model versions). */
  readonly sourcePath: StringField;
  /** `version_number` (model versions). */
  readonly versionNumber: NumericField;
  /** `tags.<key>`: a tag's value (both searches); the key is backquoted when it needs to be. */
  tag(key: string): StringField;
} = {
  name: listField('name'),
  runId: listField('run_id'),
  sourcePath: stringField('source_path'),
  versionNumber: numericField('version_number'),
  tag: (key) => stringField(tagKey(key)),
};

/** Joins clauses with `AND` (MLflow's grammar has no `OR`). */
export function and(...clauses: readonly FilterClause[]): string {
  return clauses.join(' AND ');
}
