/**
 * An opt-in cache of get-registered-model reads (READ_CACHE_SIZE), the registry's hottest read.
 *
 * Correctness rests on invalidation, never on expiry:
 * - every registry mutation names the models it changed in its events; after its COMMIT (and before
 *   its response is sent) this process drops them, so a client reading from the replica it wrote
 *   through always sees its own write;
 * - on PostgreSQL the same names go out with NOTIFY in the mutation's transaction, and every replica
 *   drops them when the notification arrives (events/changes.ts). Replicas are therefore consistent
 *   within the notification delay (well under a millisecond on one host), not instantly;
 * - while this process cannot be sure to hear other writers (LISTEN not yet established, or lost),
 *   the cache is empty and unused;
 * - a read that was in flight while any invalidation happened is not stored (the epoch check), so
 *   an answer from before a change cannot be put back after the change dropped it.
 * Only found models are cached; rows are shared, so they must never be mutated by callers.
 */
import type { RegisteredModelRow } from './entities.js';

export class RegisteredModelCache {
  private readonly rows = new Map<string, RegisteredModelRow>();
  private epoch = 0;
  private live: boolean;

  /**
   * @param maxEntries models kept (least recently used dropped first)
   * @param live false when the cache must wait for a change feed before it may be used
   */
  constructor(
    private readonly maxEntries: number,
    live: boolean,
  ) {
    this.live = live && maxEntries > 0;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Reads `name` through the cache; `load` runs on a miss (and while the cache is not live). */
  async getOrLoad(name: string, load: () => Promise<RegisteredModelRow | undefined>): Promise<RegisteredModelRow | undefined> {
    if (!this.live) return load();
    const hit = this.rows.get(name);
    if (hit) {
      // Refresh recency: a Map iterates in insertion order, so the first key is the least recent.
      this.rows.delete(name);
      this.rows.set(name, hit);
      return hit;
    }
    const epoch = this.epoch;
    const row = await load();
    if (row && this.live && epoch === this.epoch) {
      this.rows.set(name, row);
      if (this.rows.size > this.maxEntries) this.rows.delete(this.rows.keys().next().value!);
    }
    return row;
  }

  /** Drops the named models, or every model when `names` is null (a change whose names were not sent). */
  invalidate(names: Iterable<string> | null): void {
    this.epoch++;
    if (names === null) this.rows.clear();
    else for (const name of names) this.rows.delete(name);
  }

  /** Starts or stops using the cache (the change feed came up or went down); either way it starts empty. */
  setLive(live: boolean): void {
    this.epoch++;
    this.rows.clear();
    this.live = live && this.maxEntries > 0;
  }
}
