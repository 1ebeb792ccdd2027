/**
 * How the auth tables tell the permission-decision caches (auth/grant-cache.ts) that they changed:
 *
 * - in the writing transaction, a NOTIFY on AUTH_CHANGES_CHANNEL (sent on COMMIT) for the other
 *   replicas, while another process's cache listens (a registry_cache_listeners row: the decision cache
 *   rides on the read cache's change feed, events/changes.ts), so that writers do not queue on
 *   PostgreSQL's notification lock for nobody (the registry's own rule, events/sink.ts);
 * - once the write has committed, this process's caches drop everything (`onChange`), before the
 *   response is sent: the next request on this replica sees the change.
 *
 * A write that runs inside someone else's transaction (the registry's grant effects: creator MANAGE,
 * rename, delete) drops after that transaction commits, through its commit hooks (events/commit-hooks.ts).
 *
 * There is one AuthChanges per database object (`authChangesOf`): every AuthStore over the server's
 * database (the HTTP handlers', the registry's grant effects', a test's) drops the same caches.
 */
import type { Executor } from '../store/db.js';

export const AUTH_CHANGES_CHANNEL = 'mlflow_ts_auth_changes';

const ANNOUNCE_SQL = `SELECT pg_notify('${AUTH_CHANGES_CHANNEL}', $2) FROM (SELECT 1) one
  WHERE EXISTS (SELECT 1 FROM registry_cache_listeners WHERE pid <> $1::integer)`;

/**
 * What an announcement names besides "grants or roles changed": a user whose password, admin flag or
 * existence changed (the other replicas drop that user's cached credentials), or an access token that
 * was revoked (they drop it from their token caches).
 */
export type AuthChange = { user: string } | { token: number };

/** The payload of an announcement: '' (grants or roles changed), or the change as JSON. */
export function changePayload(change?: AuthChange): string {
  return change === undefined ? '' : JSON.stringify(change);
}

function parsePayload(payload: string | undefined): { user?: unknown; token?: unknown } | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as { user?: unknown; token?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** The user an announcement names, if any (see changePayload). */
export function changedUser(payload: string | undefined): string | undefined {
  const user = parsePayload(payload)?.user;
  return typeof user === 'string' ? user : undefined;
}

/** The revoked access token an announcement names, if any (see changePayload). */
export function revokedToken(payload: string | undefined): number | undefined {
  const token = parsePayload(payload)?.token;
  return typeof token === 'number' && Number.isInteger(token) ? token : undefined;
}

export class AuthChanges {
  private readonly listeners: (() => void)[] = [];
  /** Set when the auth tables share the registry's PostgreSQL database and its change feed: this process's LISTEN pid (0 while none). */
  announce?: { ownListenerPid(): number };
  /** Runs `fn` after transaction `tx` commits; false when `tx` is not a transaction the hooks know. */
  afterCommit?: (tx: Executor, fn: () => void) => boolean;

  /** `fn` runs after every committed auth-table change of this process. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Inside the writing transaction: tells the other replicas (when they listen); `change` as changePayload. */
  async announceIn(tx: Executor, change?: AuthChange): Promise<void> {
    if (this.announce) await tx.query(ANNOUNCE_SQL, [this.announce.ownListenerPid(), changePayload(change)], 'auth_announce_change');
  }

  /** The change is committed (or failed, which drops for nothing): this process's caches drop everything. */
  changed(): void {
    for (const fn of this.listeners) fn();
  }

  /**
   * A write made with `tx`, someone else's transaction: announced in it, dropped after its COMMIT. When
   * the hooks do not know `tx` it is not an open transaction (a plain executor: the write has committed).
   */
  async inTransaction(tx: Executor): Promise<void> {
    await this.announceIn(tx);
    if (!this.afterCommit?.(tx, () => this.changed())) this.changed();
  }
}

/** What announceAuthChanges needs to know of the registry's database (store/db.ts Database). */
export interface RegistryDatabaseKind {
  kind: string;
  /** Created by mlflow server: its auth tables announce nothing (no triggers), so no replica keeps decisions. */
  mlflowOwned: boolean;
}

/**
 * Whether the auth tables' writes are announced on the change feed, and if so turns it on for `changes`
 * (every process that writes them: the server, the CLI): when they share the registry's PostgreSQL
 * database, one this server created, the other replicas' decision caches follow them there.
 * `ownListenerPid`: this process's LISTEN connection (0 while none, or in a process that listens to
 * nothing), which needs no announcement.
 */
export function announceAuthChanges(changes: AuthChanges, registryDb: RegistryDatabaseKind, authDb: object, ownListenerPid: () => number): boolean {
  const announced = authDb === registryDb && registryDb.kind === 'postgres' && !registryDb.mlflowOwned;
  if (announced) changes.announce = { ownListenerPid };
  return announced;
}

const BY_DATABASE = new WeakMap<object, AuthChanges>();

/** The AuthChanges of the auth tables in `db` (one per database object). */
export function authChangesOf(db: object): AuthChanges {
  let changes = BY_DATABASE.get(db);
  if (!changes) BY_DATABASE.set(db, (changes = new AuthChanges()));
  return changes;
}
