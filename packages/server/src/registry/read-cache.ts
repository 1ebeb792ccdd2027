/**
 * An opt-in cache of the registry's hot reads (READ_CACHE_SIZE): get registered model, get model
 * version, get latest versions, get version by alias, the models of registered-model search pages, and
 * whole search answers. Each answer is kept under the model it belongs to (search answers under
 * SEARCHES), already rendered as JSON text, so a hit costs neither a database round trip nor
 * serialisation.
 *
 * Correctness rests on invalidation, never on expiry:
 * - every registry mutation names the models it changed in its events; after its COMMIT (and before
 *   its response is sent) this process drops everything kept under them, so a client reading from
 *   the replica it wrote through always sees its own write;
 * - on PostgreSQL the same names go out with NOTIFY in the mutation's transaction, and every replica
 *   drops them when the notification arrives (events/changes.ts). Replicas are therefore consistent
 *   within the notification delay (well under a millisecond on one host), not instantly;
 * - while this process cannot be sure to hear other writers (LISTEN not yet established, or lost),
 *   the cache is empty and unused;
 * - a read that was in flight while any invalidation happened is not stored (the epoch check), so
 *   an answer from before a change cannot be put back after the change dropped it.
 * Only answers about existing entities are kept (a miss is not an answer worth a slot). Values are
 * shared between requests and must never be mutated.
 */

/**
 * The pseudo-model under which whole search answers are kept (a model name is never empty). Any
 * change may change any search, so every invalidation drops it, whatever models it names.
 */
export const SEARCHES = '';

/** Answers are counted, not measured: a longer one (a search of thousands of versions) is not kept. */
const MAX_ANSWER_CHARS = 256 * 1024;

export class ModelReadCache {
  /** model name → (answer key → answer); Map order is recency (first = least recently used). */
  private readonly models = new Map<string, Map<string, unknown>>();
  private entries = 0;
  private epochValue = 0;
  private liveValue: boolean;

  /**
   * @param maxEntries answers kept in all (whole models are dropped, least recently used first)
   * @param live false when the cache must wait for a change feed before it may be used
   */
  constructor(
    private readonly maxEntries: number,
    live: boolean,
  ) {
    this.liveValue = live && maxEntries > 0;
  }

  /** Answers kept. */
  get size(): number {
    return this.entries;
  }

  /** Whether reads may use the cache now. */
  get live(): boolean {
    return this.liveValue;
  }

  /** Changes whenever anything is dropped; take it before a load, hand it to `put` after. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The kept answer, or undefined (also while the cache is not live). */
  get<T>(name: string, key: string): T | undefined {
    if (!this.liveValue) return undefined;
    const answers = this.models.get(name);
    const hit = answers?.get(key);
    if (hit === undefined) return undefined;
    this.models.delete(name);
    this.models.set(name, answers!);
    return hit as T;
  }

  /** Keeps an answer loaded since `epoch`, unless something was dropped meanwhile (or it is a very long text). */
  put(epoch: number, name: string, key: string, value: unknown): void {
    if (!this.liveValue || epoch !== this.epochValue || value === undefined) return;
    if (typeof value === 'string' && value.length > MAX_ANSWER_CHARS) return;
    let answers = this.models.get(name);
    if (answers) this.models.delete(name);
    else answers = new Map();
    this.models.set(name, answers);
    if (!answers.has(key)) this.entries++;
    answers.set(key, value);
    while (this.entries > this.maxEntries) {
      const [oldest, dropped] = this.models.entries().next().value!;
      this.models.delete(oldest);
      this.entries -= dropped.size;
    }
  }

  /** Reads through the cache: `load` runs on a miss; its answer is kept when defined. */
  async getOrLoad<T>(name: string, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.get<T>(name, key);
    if (hit !== undefined) return hit;
    const epoch = this.epochValue;
    const value = await load();
    this.put(epoch, name, key, value);
    return value;
  }

  /**
   * Drops what is kept under the named models and every search answer, or everything when `names`
   * is null (a change whose names were not sent).
   */
  invalidate(names: Iterable<string> | null): void {
    this.epochValue++;
    if (names === null) return this.clear();
    for (const name of [SEARCHES, ...names]) {
      const answers = this.models.get(name);
      if (!answers) continue;
      this.models.delete(name);
      this.entries -= answers.size;
    }
  }

  /** Starts or stops using the cache (the change feed came up or went down); either way it starts empty. */
  setLive(live: boolean): void {
    this.epochValue++;
    this.clear();
    this.liveValue = live && this.maxEntries > 0;
  }

  private clear(): void {
    this.models.clear();
    this.entries = 0;
  }
}
