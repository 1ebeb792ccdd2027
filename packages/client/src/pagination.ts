import type { Page } from './entities.js';

/**
 * The results of a paginated listing, fetched one page at a time as you iterate. Nothing is
 * requested until iteration starts; every iteration starts again from the first page.
 *
 * @example
 * ```ts
 * for await (const mv of client.searchModelVersions({ filter: "name = 'iris'" })) {
 *   console.log(mv.version, mv.currentStage);
 * }
 * ```
 */
export class PageIterator<T> implements AsyncIterable<T> {
  readonly #fetchPage: (pageToken: string | undefined) => Promise<Page<T>>;

  /** @internal */
  constructor(fetchPage: (pageToken: string | undefined) => Promise<Page<T>>) {
    this.#fetchPage = fetchPage;
  }

  /**
   * Iterates over whole pages rather than single items.
   *
   * @example
   * ```ts
   * for await (const page of client.searchRegisteredModels({ maxResults: 50 }).pages()) {
   *   console.log(page.items.length, page.nextPageToken);
   * }
   * ```
   */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.#fetchPage(token);
      yield page;
      token = page.nextPageToken || undefined;
      if (token !== undefined) {
        if (seen.has(token)) throw new Error(`The server returned page token '${token}' twice; stopping to avoid an endless loop.`);
        seen.add(token);
      }
    } while (token !== undefined);
  }

  /**
   * Iterates over every item of every page.
   *
   * @example
   * ```ts
   * for await (const model of client.searchRegisteredModels()) console.log(model.name);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
  }

  /**
   * Collects the items into an array, stopping after `limit` items if given.
   *
   * @example
   * ```ts
   * const first10 = await client.searchModelVersions({ filter: "name = 'iris'" }).toArray(10);
   * ```
   */
  async toArray(limit: number = Infinity): Promise<T[]> {
    const out: T[] = [];
    if (limit <= 0) return out;
    for await (const item of this) {
      out.push(item);
      if (out.length >= limit) break;
    }
    return out;
  }
}
