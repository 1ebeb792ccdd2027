/**
 * A Database wrapper that can run callbacks after a transaction COMMITs. The event sink uses it to
 * wake the delivery worker as soon as a change that created webhook deliveries is visible to it
 * (a wake-up inside the transaction would find nothing yet).
 */
import type { Database, Executor } from '../store/db.js';

export interface CommitHooks {
  /** Runs `fn` after the transaction `tx` commits; false when `tx` is not one of ours. */
  afterCommit(tx: Executor, fn: () => void): boolean;
}

export function withCommitHooks(db: Database): Database & CommitHooks {
  const pending = new WeakMap<Executor, (() => void)[]>();
  return {
    get kind() {
      return db.kind;
    },
    get mlflowOwned() {
      return db.mlflowOwned;
    },
    query: (text, params, name) => db.query(text, params, name),
    close: () => db.close(),
    async transaction(fn) {
      let wrapped: Executor | undefined;
      const result = await db.transaction((tx) => {
        wrapped = { query: (text, params, name) => tx.query(text, params, name) };
        pending.set(wrapped, []);
        return fn(wrapped);
      });
      const callbacks = wrapped ? pending.get(wrapped) : undefined;
      if (wrapped) pending.delete(wrapped);
      for (const cb of callbacks ?? []) {
        try {
          cb();
        } catch {
          /* a hook never fails the committed transaction */
        }
      }
      return result;
    },
    afterCommit(tx, fn) {
      const list = pending.get(tx);
      if (!list) return false;
      list.push(fn);
      return true;
    },
  };
}
