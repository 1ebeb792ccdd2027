/**
 * Row-level change capture for METADATA_STORE=s3 (replicated.ts): every write to a table of the local
 * database is recorded, as row images, by a trigger; a commit ships them to the change log and the other
 * replicas apply them. Row images, not statements: a statement may use the clock or random values
 * (clock_timestamp(), gen_random_uuid()), and replaying it would give each replica other values.
 * Sequences are not rows: their values are shipped beside them. Row images travel as JSON: every integer
 * column of the schema holds values far below 2^53 (millisecond timestamps, version numbers, counters), and
 * there are no numeric, float or bytea columns, so JSON numbers and strings carry them exactly.
 */
import type { Executor } from '../db.js';
import type { RowChange } from './change-log.js';

/** Where the trigger records a transaction's writes until it commits (emptied before COMMIT). */
const CAPTURED = '__mlflow_ts_captured';

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Installs the capture trigger on every table of schema public (after the migrations: they are applied
 * by each replica to its own database, never shipped). Row triggers also see the rows a foreign key's
 * cascade changes; replay runs as a replica (session_replication_role), where neither triggers nor
 * cascades fire, so each row change is applied exactly once.
 */
export async function installCapture(db: Executor): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS ${CAPTURED} (n bigserial PRIMARY KEY, t text NOT NULL, op text NOT NULL, old_row jsonb, new_row jsonb)`);
  await db.query(`CREATE OR REPLACE FUNCTION __mlflow_ts_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${CAPTURED} (t, op, old_row, new_row) VALUES (TG_TABLE_NAME, left(TG_OP, 1),
    CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END, CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  RETURN NULL;
END $$`);
  await db.query(`CREATE OR REPLACE FUNCTION __mlflow_ts_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE is not replicated (METADATA_STORE=s3)';
END $$`);
  const tables = await publicTables(db, true);
  // The assumption of the file's header, checked: a column JSON would not carry exactly stops the start.
  const inexact = await db.query<{ col: string }>(
    `SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS col
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid IN ('numeric'::regtype, 'float4'::regtype, 'float8'::regtype, 'bytea'::regtype, 'money'::regtype)`,
  );
  if (inexact.length > 0) throw new Error(`METADATA_STORE=s3 cannot replicate these columns exactly as JSON: ${inexact.map((r) => r.col).join(', ')}`);
  for (const name of tables) {
    await db.query(`CREATE OR REPLACE TRIGGER __mlflow_ts_capture AFTER INSERT OR UPDATE OR DELETE ON ${ident(name)} FOR EACH ROW EXECUTE FUNCTION __mlflow_ts_capture()`);
    await db.query(`CREATE OR REPLACE TRIGGER __mlflow_ts_refuse_truncate BEFORE TRUNCATE ON ${ident(name)} FOR EACH STATEMENT EXECUTE FUNCTION __mlflow_ts_refuse_truncate()`);
  }
}

/**
 * The tables whose rows the replicas share (and a snapshot holds): schema public's, but the capture table
 * and the migration bookkeeping, which each replica keeps for itself.
 */
export function replicatedTables(ex: Executor): Promise<string[]> {
  return publicTables(ex, false);
}

/** The tables of schema public but the capture table, with or without the migration bookkeeping. */
async function publicTables(ex: Executor, withBookkeeping: boolean): Promise<string[]> {
  const rows = await ex.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1 AND ($2 OR NOT starts_with(c.relname, '__mlflow_ts_migrations'))
      ORDER BY c.relname`,
    [CAPTURED, withBookkeeping],
  );
  return rows.map((r) => r.name);
}

/** Every replicated table's rows, as the JSON text of an object keyed by table (inside the caller's transaction). */
export async function dumpTables(tx: Executor): Promise<string> {
  const parts: string[] = [];
  for (const table of await replicatedTables(tx)) {
    const [r] = await tx.query<{ rows: string }>(`SELECT coalesce(json_agg(t), '[]'::json)::text AS rows FROM public.${ident(table)} t`);
    parts.push(`${JSON.stringify(table)}:${r!.rows}`);
  }
  return `{${parts.join(',')}}`;
}

/** The current transaction's captured writes, in order, removed from the capture table. */
export async function takeCaptured(tx: Executor): Promise<RowChange[]> {
  const rows = await tx.query<{ t: string; op: 'I' | 'U' | 'D'; old_row: Record<string, unknown> | null; new_row: Record<string, unknown> | null }>(
    `SELECT t, op, old_row, new_row FROM ${CAPTURED} ORDER BY n`,
  );
  if (rows.length === 0) return [];
  await tx.query(`DELETE FROM ${CAPTURED}`);
  return rows.map((r) => ({ t: r.t, op: r.op, ...(r.old_row ? { old: r.old_row } : {}), ...(r.new_row ? { new: r.new_row } : {}) }));
}

/** The values of the sequences of schema public (the capture table's excepted); null: never used. */
export async function sequenceValues(ex: Executor): Promise<Map<string, number | null>> {
  const rows = await ex.query<{ name: string; value: number | null }>(
    `SELECT sequencename AS name, last_value AS value FROM pg_sequences WHERE schemaname = 'public' AND sequencename <> $1`,
    [`${CAPTURED}_n_seq`],
  );
  return new Map(rows.map((r) => [r.name, r.value === null ? null : Number(r.value)]));
}

/** Rows of one table inserted one after the other are applied by one statement, this many at most. */
const INSERT_BATCH = 500;

async function setSequences(tx: Executor, sequences: Record<string, number>): Promise<void> {
  for (const [name, value] of Object.entries(sequences)) await tx.query(`SELECT setval($1::regclass, $2, true)`, [`public.${ident(name)}`, value]);
}

interface TableShape {
  insert: string;
  /** The insert of a JSON array of rows. */
  insertMany: string;
  /** Deletes every row (a snapshot's load). */
  clear: string;
  update: string;
  delete: string;
}

/**
 * Applies shipped changes to the local database, in their order, inside the caller's transaction (which
 * runs as a replica: no triggers, no cascades). Statements per table are built once from the catalog:
 * rows are matched by primary key, or by all their columns where a table has none.
 */
export class ChangeApplier {
  private readonly shapes = new Map<string, TableShape>();

  async apply(tx: Executor, changes: RowChange[], sequences: Record<string, number>): Promise<void> {
    for (let i = 0; i < changes.length; ) {
      const c = changes[i]!;
      const shape = await this.shape(tx, c.t);
      if (c.op === 'I') {
        // A run of inserts into one table (a bulk load, a version with its tags) in one statement, in order.
        let end = i + 1;
        while (end < changes.length && end - i < INSERT_BATCH && changes[end]!.op === 'I' && changes[end]!.t === c.t) end++;
        if (end - i === 1) await tx.query(shape.insert, [c.new]);
        else await tx.query(shape.insertMany, [JSON.stringify(changes.slice(i, end).map((x) => x.new))]);
        i = end;
        continue;
      }
      if (c.op === 'U') await tx.query(shape.update, [c.old, c.new]);
      else await tx.query(shape.delete, [c.old]);
      i++;
    }
    await setSequences(tx, sequences);
  }

  /**
   * Replaces the rows of the snapshot's tables with its rows, and sets the sequences, inside the caller's
   * transaction (run as a replica: no triggers, no foreign-key checks while the tables are refilled).
   */
  async load(tx: Executor, tables: Record<string, Record<string, unknown>[]>, sequences: Record<string, number>): Promise<void> {
    for (const [table, rows] of Object.entries(tables)) {
      const shape = await this.shape(tx, table);
      await tx.query(shape.clear);
      for (let i = 0; i < rows.length; i += INSERT_BATCH) await tx.query(shape.insertMany, [JSON.stringify(rows.slice(i, i + INSERT_BATCH))]);
    }
    await setSequences(tx, sequences);
  }

  private async shape(tx: Executor, table: string): Promise<TableShape> {
    const kept = this.shapes.get(table);
    if (kept) return kept;
    const cols = await tx.query<{ name: string; pk: boolean }>(
      `SELECT a.attname AS name,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)) AS pk
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [`public.${ident(table)}`],
    );
    if (cols.length === 0) throw new Error(`the change log names table ${table}, which this server does not have`);
    const t = `public.${ident(table)}`;
    const rec = (param: number) => `jsonb_populate_record(NULL::${t}, $${param})`;
    const all = cols.map((c) => ident(c.name));
    const keys = cols.filter((c) => c.pk).map((c) => ident(c.name));
    // Without a primary key, a row is the first one equal in every column (json compared as text).
    const match = (param: number) =>
      keys.length > 0
        ? `(${keys.join(', ')}) = (SELECT ${keys.join(', ')} FROM ${rec(param)})`
        : `ctid = (SELECT x.ctid FROM ${t} x, ${rec(param)} r WHERE ${all.map((c) => `x.${c}::text IS NOT DISTINCT FROM r.${c}::text`).join(' AND ')} LIMIT 1)`;
    const shape: TableShape = {
      insert: `INSERT INTO ${t} (${all.join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${all.join(', ')} FROM ${rec(1)}`,
      insertMany: `INSERT INTO ${t} (${all.join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${all.join(', ')} FROM jsonb_populate_recordset(NULL::${t}, $1::jsonb)`,
      update: `UPDATE ${t} SET (${all.join(', ')}) = (SELECT ${all.join(', ')} FROM ${rec(2)}) WHERE ${match(1)}`,
      delete: `DELETE FROM ${t} WHERE ${match(1)}`,
      clear: `DELETE FROM ${t}`,
    };
    this.shapes.set(table, shape);
    return shape;
  }
}
