import type { Executor } from './db.js';

/**
 * A write's events as SQL that runs in the change's own statement, so that the write with its events,
 * webhook deliveries and change notification is one round trip. The change's statement has a CTE
 * named `facts` with one row when the change was made (columns `version integer`, `prompt boolean`,
 * `before jsonb`; see RegistryEvent in registry/events.ts), appends `ctes` to its WITH list and
 * `columns` to its final SELECT. The registry's EventSink makes it; the store's writes run it.
 */
export interface InlineEvents {
  /** The CTEs (", name AS (…)…"), with parameters numbered from `$first`. */
  ctes(first: number): { text: string; params: unknown[] };
  readonly columns: string;
  /** After the statement ran, with its result row; `tx`: the transaction it ran in, if any. */
  done(row: Record<string, unknown> | undefined, tx?: Executor): void;
}
