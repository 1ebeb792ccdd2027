/**
 * A cache of the registry's hot reads (READ_CACHE_MB): get registered model, get model
 * version, get latest versions, get version by alias, the models of registered-model search pages, and
 * whole search answers. Each answer is kept under the model it belongs to (search answers under
 * SEARCHES), already rendered as JSON text, so a hit costs neither a database round trip nor
 * serialisation.
 *
 * Correctness rests on invalidation, never on expiry:
 * - every registry mutation names the models it changed in its events; after its COMMIT (and before
 *   its response is sent) this process drops everything kept under them, so a client reading from
 *   the replica it wrote through always sees its own write;
 * - on PostgreSQL the same names go out with NOTIFY in the mutation's transaction whenever another
 *   replica's cache listens (events/sink.ts), and every such replica drops them when the notification
 *   arrives (events/changes.ts);
 * - before a kept answer is used, the change feed catches up (`catchUp`, one empty round trip on the
 *   LISTEN connection shared by the reads waiting at that moment): every change committed before the
 *   read arrived, through any replica, has then been heard and has dropped what it changed. So a
 *   client reading through one replica sees what it wrote through another, as it would without the
 *   cache. A load from the database needs no catch-up: it reads after the request arrived;
 * - while this process cannot be sure to hear other writers (LISTEN not yet established, or lost),
 *   the cache is empty and unused;
 * - a read that was in flight while any invalidation happened is not stored (the epoch check), so
 *   an answer from before a change cannot be put back after the change dropped it.
 * Only answers about existing entities are kept (a miss is not an answer worth a slot). Values are
 * shared between requests and must never be mutated.
 */

import { DEFAULT_WORKSPACE } from '../store/workspace.js';

/**
 * The pseudo-model under which whole search answers are kept (a model name is never empty). Any
 * change may change any search, so every invalidation drops it, whatever models it names.
 */
export const SEARCHES = '';

/**
 * Answers are kept per workspace: a model of workspace `ws` is kept under `ws` NUL `name` (a name never
 * holds NUL: PostgreSQL text cannot), and `default`'s under the bare name, which is also what replicas
 * of builds before workspaces announce. Each workspace's search answers live under its own
 * pseudo-model, dropped by any change in that workspace only.
 */
const SEP = '\u0000';
export const modelKey = (ws: string, name: string): string => (ws === DEFAULT_WORKSPACE ? name : `${ws}${SEP}${name}`);
export const searchesKey = (ws: string): string => (ws === DEFAULT_WORKSPACE ? SEARCHES : `${ws}${SEP}`);
/** The search pseudo-model of the workspace a kept name belongs to. */
const searchesOf = (key: string): string => {
  const i = key.indexOf(SEP);
  return i < 0 ? SEARCHES : key.slice(0, i + 1);
};
/** The pseudo-model under which the workspaces known to exist are kept (never a model key: it starts with SOH). */
export const WORKSPACES = '\u0001workspaces';

/** An answer longer than this (a search of thousands of versions) is not kept. */
const MAX_ANSWER_CHARS = 256 * 1024;

/**
 * Bytes charged per answer beyond its text: its map entry, key and objects. The charge estimates the
 * live data: measured on the benchmark's small set, 8.6 MB more charged took 11.2 MB more of V8's heap
 * after a full collection (1.3 ×).
 */
const ENTRY_BYTES = 80;

/** The fewest model names the doorkeeper remembers (see `admit`). */
const MIN_DOORKEEPER = 1024;
/**
 * Bypass (see `bypass`): judged over windows of this many lookups; below this hit rate the cache is
 * bypassed, except for one lookup in SAMPLE_EVERY, which keeps measuring it.
 */
const WINDOW = 4096;
const MIN_HIT_RATE = 0.05;
const SAMPLE_EVERY = 16;

interface ModelAnswers {
  answers: Map<string, unknown>;
  /** What the answers are charged (their text once, plus ENTRY_BYTES each). */
  bytes: number;
}

export class ModelReadCache {
  /** model name → its answers; Map order is recency (first = least recently used). */
  private readonly models = new Map<string, ModelAnswers>();
  private entries = 0;
  private charged = 0;
  private epochValue = 0;
  private liveValue: boolean;
  /** Lookups through getOrLoad/getOrLoadMany answered from the cache, and not (metrics). */
  hits = 0;
  misses = 0;
  /** Models loaded once while the budget was full and not kept (see `admit`). */
  private readonly seen = new Set<string>();
  /** The current window of measured lookups, the hits among them, and whether the cache is bypassed (see `bypass`). */
  private windowLookups = 0;
  private windowHits = 0;
  private bypassing = false;
  private bypassed = 0;

  /**
   * @param maxBytes the memory budget of the kept answers (whole models are dropped, least recently used first)
   * @param live false when the cache must wait for a change feed before it may be used
   */
  constructor(
    private readonly maxBytes: number,
    live: boolean,
    /**
     * Resolves true once every change committed before the call has been heard (events/listener.ts
     * catchUp); false sends the read to the database. None when this process is the only writer.
     */
    private readonly catchUp?: () => Promise<boolean>,
  ) {
    this.liveValue = live && maxBytes > 0;
  }

  /** Answers kept. */
  get size(): number {
    return this.entries;
  }

  /** What the kept answers are charged against the budget. */
  get bytes(): number {
    return this.charged;
  }

  /** Whether reads may use the cache now. */
  get live(): boolean {
    return this.liveValue;
  }

  /**
   * Whether reading through the cache pays now: live, and not bypassed for a low hit rate (see `bypass`).
   * A read that could take a cheaper path to the database without the cache (one query instead of two)
   * takes it when this is false.
   */
  get paying(): boolean {
    return this.liveValue && !this.bypassing;
  }

  /** Changes whenever anything is dropped; take it before a load, hand it to `put` after. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The kept answer, or undefined (also while the cache is not live). */
  get<T>(name: string, key: string): T | undefined {
    if (!this.liveValue) return undefined;
    const model = this.models.get(name);
    const hit = model?.answers.get(key);
    if (hit === undefined) return undefined;
    this.models.delete(name);
    this.models.set(name, model!);
    return hit as T;
  }

  /**
   * Keeps an answer loaded since `epoch`, unless something was dropped meanwhile (or it is too long).
   * `textBytes` is what its text is charged: by default a string's length, and 0 for other values,
   * whose text (if any) is charged where it is kept (see `share`).
   */
  put(epoch: number, name: string, key: string, value: unknown, textBytes = typeof value === 'string' ? value.length : 0): void {
    if (!this.liveValue || epoch !== this.epochValue || value === undefined) return;
    const cost = ENTRY_BYTES + key.length + textBytes;
    if (textBytes > MAX_ANSWER_CHARS || cost > this.maxBytes) return;
    if (!this.room(name, cost) && !this.admit(name)) return;
    let model = this.models.get(name);
    if (model) this.models.delete(name);
    else model = { answers: new Map(), bytes: 0 };
    this.models.set(name, model);
    if (model.answers.has(key)) return; // a concurrent load of the same answer: keep one, charged once
    this.entries++;
    model.answers.set(key, value);
    model.bytes += cost;
    this.charged += cost;
    while (this.charged > this.maxBytes) this.drop(this.models.keys().next().value!);
  }

  /**
   * The text kept under `key` of model `name`, after keeping `text` there if there was none; undefined
   * when it is not kept (the epoch is stale, the text too long, or the cache not live). A version's JSON
   * is also the answer to its aliases and one of its model's latest versions; loading those through
   * here keeps one copy of it, charged once. `text` was just read from the database; a kept text that
   * differs from it is one whose change has not been heard yet (another replica's), and is not used.
   */
  share(epoch: number, name: string, key: string, text: string): string | undefined {
    if (epoch !== this.epochValue) return undefined;
    const kept = this.get<string>(name, key);
    if (kept !== undefined) return kept === text ? kept : undefined;
    // Never what admits a model: the answer being loaded decides that (else every load would admit twice).
    if (!this.room(name, ENTRY_BYTES + key.length + text.length)) return undefined;
    this.put(epoch, name, key, text);
    return this.models.get(name)?.answers.get(key) as string | undefined;
  }

  /**
   * Reads through the cache: `load` runs on a miss (with the epoch it must hand to `share`); its answer
   * is kept when defined, its text charged by `textBytes` (see `put`).
   */
  async getOrLoad<T>(
    name: string,
    key: string,
    load: (epoch: number) => Promise<T | undefined>,
    textBytes?: (value: T) => number,
  ): Promise<T | undefined> {
    if (this.bypass()) {
      this.misses++;
      return load(-1); // an epoch that never matches: nothing of this load is kept
    }
    const [hit] = await this.kept<T>([name], key);
    this.measure(1, hit !== undefined ? 1 : 0);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const epoch = this.epochValue;
    const value = await load(epoch);
    if (value !== undefined) this.put(epoch, name, key, value, textBytes?.(value));
    return value;
  }

  /**
   * getOrLoad for the answers under `key` of several models, with one `load` for those not kept (it
   * returns the answers it found, by model name). Answers come back in the order of `names`; a name
   * that `load` did not find has none.
   */
  async getOrLoadMany(names: string[], key: string, load: (missing: string[]) => Promise<Map<string, string>>): Promise<(string | undefined)[]> {
    if (this.bypass()) {
      this.misses += names.length;
      const loaded = await load(names);
      return names.map((name) => loaded.get(name));
    }
    const out = await this.kept<string>(names, key);
    const missing = names.filter((_, i) => out[i] === undefined);
    this.measure(names.length, names.length - missing.length);
    this.hits += names.length - missing.length;
    this.misses += missing.length;
    if (missing.length === 0) return out;
    const epoch = this.epochValue;
    const loaded = await load(missing);
    for (const [name, value] of loaded) this.put(epoch, name, key, value);
    return names.map((name, i) => out[i] ?? loaded.get(name));
  }

  /**
   * The answers kept under `key` of the named models that may be used now: when any is kept and other
   * processes write, those still kept once the change feed has caught up (a change not yet heard drops
   * its answers then), or none when it cannot tell.
   */
  private async kept<T>(names: string[], key: string): Promise<(T | undefined)[]> {
    const out = names.map((name) => this.get<T>(name, key));
    if (!this.catchUp || out.every((x) => x === undefined)) return out;
    return (await this.catchUp()) ? names.map((name) => this.get<T>(name, key)) : names.map(() => undefined);
  }

  /**
   * Drops what is kept under the named models (keys of modelKey) and the search answers of their
   * workspaces, or everything when `names` is null (a change whose names were not sent, a workspace deleted).
   */
  invalidate(names: Iterable<string> | null): void {
    this.epochValue++;
    if (names === null) return this.clear();
    let any = false;
    for (const name of names) {
      any = true;
      this.drop(name);
      this.drop(searchesOf(name));
    }
    if (!any) this.drop(SEARCHES);
  }

  /** Starts or stops using the cache (the change feed came up or went down); either way it starts empty. */
  setLive(live: boolean): void {
    this.epochValue++;
    this.clear();
    this.liveValue = live && this.maxBytes > 0;
  }

  /**
   * Whether this lookup skips the cache. On a registry far larger than the budget, whose reads spread
   * over all of it, almost nothing is hit and the cache's own work (lookups, keeping, evicting, catching
   * up) made reads slower than no cache at all (docs/benchmarks-round-two.md). So while the hit rate of
   * the last window is under MIN_HIT_RATE, lookups go straight to the database (always exact), except
   * one in SAMPLE_EVERY, which uses the cache as usual and measures it again.
   */
  private bypass(): boolean {
    return this.bypassing && ++this.bypassed % SAMPLE_EVERY !== 0;
  }

  /** Counts `lookups` measured lookups, `hits` of them hits; at the end of a window decides on bypassing. */
  private measure(lookups: number, hits: number): void {
    this.windowLookups += lookups;
    this.windowHits += hits;
    if (this.windowLookups < WINDOW) return;
    this.bypassing = this.windowHits < MIN_HIT_RATE * this.windowLookups;
    this.windowLookups = 0;
    this.windowHits = 0;
  }

  /** Whether an answer costing `cost` can be kept under `name` without dropping another model. */
  private room(name: string, cost: number): boolean {
    return this.models.has(name) || this.charged + cost <= this.maxBytes;
  }

  /**
   * Admission once the budget is full (TinyLFU's "doorkeeper"): a model that is not kept gets in only
   * on its second load within a while, remembered among the last few thousand models so loaded. On a
   * registry much larger than the budget, uniform reads otherwise drop a kept model for every load, a
   * churn that made the cache slower than no cache at all (docs/benchmarks-round-two.md); this way most
   * one-off loads are not kept, while what is read again and again still gets in. Exactness is
   * unaffected: only what is kept changes.
   */
  private admit(name: string): boolean {
    if (this.seen.delete(name)) return true;
    if (this.seen.size >= Math.max(MIN_DOORKEEPER, 2 * this.models.size)) this.seen.clear();
    this.seen.add(name);
    return false;
  }

  private drop(name: string): void {
    const model = this.models.get(name);
    if (!model) return;
    this.models.delete(name);
    this.entries -= model.answers.size;
    this.charged -= model.bytes;
  }

  private clear(): void {
    this.models.clear();
    this.entries = 0;
    this.charged = 0;
  }
}
