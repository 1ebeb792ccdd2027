/**
 * The permission-decision cache: each user's grants per workspace (every type), indexed by resource
 * name, so that a non-admin request is decided in memory. Bounded by the grant rows it keeps (least
 * recently used (user, workspace) first) and exact:
 *
 * - on this replica, every auth-table write drops everything once it has committed (auth/changes.ts);
 *   a load that was in flight while anything was dropped is not kept (the epoch check), so grants read
 *   before a change cannot be put back after it;
 * - across replicas (PostgreSQL), the writers NOTIFY AUTH_CHANGES_CHANNEL in the writing transaction and
 *   every replica drops everything when it hears it; a kept entry is used only when the caller says the
 *   LISTEN connection has caught up since the request arrived (`fresh`: events/listener.ts catchUpSince,
 *   at most one round trip per request, shared with the model classification and, for reads, with the
 *   handler's read-cache lookup: http/authn.ts), so a change committed before the request arrived has
 *   been heard. While the change feed is down (`live()` false) nothing is kept or used,
 *   exactly as the read cache;
 * - where no change feed reaches this process (the auth tables in another database, AUTH_DATABASE_URL,
 *   or no read cache on PostgreSQL), an entry is trusted for `ttlMs` only (MLFLOW_AUTH_CACHE_TTL_SECONDS,
 *   as the credential cache): other replicas' changes take up to that long here.
 *
 * Auth writes are rare, so a write drops everything rather than working out whose grants it touched.
 * A user with more grants than the whole budget (a service account that created every model holds
 * MANAGE on each) is not kept: `grants` answers undefined and the caller asks the database per request.
 */
import { RESOURCE_TYPE, type Grant } from './permissions.js';

export interface GrantCacheOptions {
  /** Most grant rows kept (each (user, workspace) entry costs its rows + 1); 0 turns the cache off. */
  maxGrants: number;
  /** Whether the cache may be used now (the change feed listens); default always. */
  live?: () => boolean;
  /** Trust an entry this long only (no change feed); undefined: until invalidated. */
  ttlMs?: number;
  now?: () => number;
}

/** Types granted by name whose grants on other names never matter to a decision on one name. */
const NAMED_TYPES = new Set<string>([RESOURCE_TYPE.REGISTERED_MODEL, RESOURCE_TYPE.PROMPT, RESOURCE_TYPE.EXPERIMENT]);

/** A user's grants in one workspace, with the ones naming a resource indexed by that name. */
export class UserGrants {
  /** Grants whose pattern is '*' or whose type is not granted by name. */
  private readonly general: Grant[] = [];
  private readonly byName = new Map<string, Grant[]>();

  constructor(readonly all: readonly Grant[]) {
    for (const g of all) {
      if (g.resourcePattern === '*' || !NAMED_TYPES.has(g.resourceType)) this.general.push(g);
      else {
        const list = this.byName.get(g.resourcePattern);
        if (list) list.push(g);
        else this.byName.set(g.resourcePattern, [g]);
      }
    }
  }

  /** The grants of the given types (all patterns), plus the workspace-wide ones: what AuthStore.grantsFor loads. */
  ofTypes(types: readonly string[]): Grant[] {
    return this.all.filter((g) => g.resourceType === RESOURCE_TYPE.WORKSPACE || types.includes(g.resourceType));
  }

  /**
   * What AuthStore.registryAccess loads for model `name`: the registered-model and prompt grants on it
   * or '*', the version tiers' '*', the workspace-wide ones.
   */
  forModel(name: string): Grant[] {
    const out: Grant[] = [];
    for (const g of this.general) if (REGISTRY_GENERAL.has(g.resourceType) && g.resourcePattern === '*') out.push(g);
    for (const g of this.byName.get(name) ?? []) if (g.resourceType === RESOURCE_TYPE.REGISTERED_MODEL || g.resourceType === RESOURCE_TYPE.PROMPT) out.push(g);
    return out;
  }
}

const REGISTRY_GENERAL = new Set<string>([
  RESOURCE_TYPE.REGISTERED_MODEL,
  RESOURCE_TYPE.PROMPT,
  RESOURCE_TYPE.REGISTERED_MODEL_VERSION,
  RESOURCE_TYPE.PROMPT_VERSION,
  RESOURCE_TYPE.WORKSPACE,
]);

interface Entry {
  /** undefined: more grants than the budget (not worth keeping; the caller asks the database). */
  grants: UserGrants | undefined;
  cost: number;
  loadedAt: number;
}

export class GrantCache {
  /** `${userId} NUL ${workspace}` → grants; Map order is recency (first = least recently used). */
  private readonly entries = new Map<string, Entry>();
  private epochValue = 0;
  private kept_ = 0;
  private readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: GrantCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Changes whenever anything kept is dropped (a decision taken on kept grants is current while it holds). */
  get epoch(): number {
    return this.epochValue;
  }

  /** (user, workspace) entries kept. */
  get size(): number {
    return this.entries.size;
  }

  /** Grant rows kept (plus one per entry): what the budget bounds. */
  get cost(): number {
    return this.kept_;
  }

  get enabled(): boolean {
    return this.opts.maxGrants > 0;
  }

  /** Whether entries may be kept and used now. */
  get live(): boolean {
    return this.opts.maxGrants > 0 && (this.opts.live?.() ?? true);
  }

  /**
   * The user's grants in `workspace`: kept ones when they may be used (`fresh`: every change committed
   * before the request arrived has been heard), else `load`'s (which reads at most `limit` rows: more
   * means too many to keep, and undefined is answered).
   */
  async grants(userId: number, workspace: string, load: (limit: number) => Promise<Grant[]>, fresh = true): Promise<UserGrants | undefined> {
    const key = `${userId}\u0000${workspace}`;
    const hit = fresh ? this.hit(key) : undefined;
    if (hit) return hit.grants;
    this.misses++;
    const epoch = this.epochValue;
    const loadedAt = this.now();
    const limit = Math.max(0, this.opts.maxGrants - 1);
    const rows = await load(limit);
    const grants = rows.length > limit ? undefined : new UserGrants(rows);
    if (this.live && epoch === this.epochValue) {
      this.remove(key);
      const cost = 1 + (grants ? rows.length : 0);
      this.entries.set(key, { grants, cost, loadedAt });
      this.kept_ += cost;
      while (this.kept_ > this.opts.maxGrants) this.remove(this.entries.keys().next().value!);
    }
    return grants;
  }

  /**
   * The user's kept grants in `workspace` without waiting (the caller knows they may be used: `fresh`):
   * `{grants}` when kept (grants undefined: too many to keep), undefined when not.
   */
  kept(userId: number, workspace: string): { grants: UserGrants | undefined } | undefined {
    return this.hit(`${userId}\u0000${workspace}`);
  }

  /** Drops everything (an auth-table change, here or heard from another replica; the change feed went up or down). */
  invalidate(): void {
    this.epochValue++;
    this.entries.clear();
    this.kept_ = 0;
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.kept_ -= e.cost;
  }

  /** A usable kept entry, counted and made the most recently used. */
  private hit(key: string): Entry | undefined {
    const e = this.peek(key);
    if (!e) return undefined;
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private peek(key: string): Entry | undefined {
    if (!this.live) return undefined;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.opts.ttlMs !== undefined && this.now() - e.loadedAt >= this.opts.ttlMs) {
      this.remove(key);
      return undefined;
    }
    return e;
  }
}
