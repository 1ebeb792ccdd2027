import { describe, expect, it } from 'vitest';
import { ModelReadCache, SEARCHES, modelKey as mk, searchesKey as sk } from './read-cache.js';

describe('ModelReadCache', () => {
  // Charged per answer: 80 bytes, plus its key's length, plus its text's length.
  const cost = (key: string, text: string) => 80 + key.length + text.length;

  it('charges answers by size, and drops whole models, least recently used first, past its budget', () => {
    const c = new ModelReadCache(4 * cost('model', 'A'.repeat(100)), true);
    c.put(c.epoch, 'a', 'model', 'A'.repeat(100));
    c.put(c.epoch, 'a', 'v:1', 'a'.repeat(102));
    c.put(c.epoch, 'b', 'model', 'B'.repeat(100));
    c.put(c.epoch, 'b', 'model', 'other'); // a concurrent load of a kept answer: kept once, charged once
    expect(c.size).toBe(3);
    expect(c.bytes).toBe(3 * cost('model', 'A'.repeat(100)));
    expect(c.get('a', 'model')).toBe('A'.repeat(100)); // a is now the most recent
    c.put(c.epoch, 'c', 'model', 'C'.repeat(100));
    c.put(c.epoch, 'c', 'v:1', 'c'.repeat(102)); // over budget: b goes, as a whole
    expect(c.size).toBe(4);
    expect(c.bytes).toBe(4 * cost('model', 'A'.repeat(100)));
    expect(c.get('b', 'model')).toBeUndefined();
    expect(c.get('a', 'v:1')).toBe('a'.repeat(102));
    expect(c.get('c', 'v:1')).toBe('c'.repeat(102));
  });

  it('once full, admits a model not kept only on its second load (no churn from one-off reads)', async () => {
    const unit = cost('model', 'A'.repeat(100));
    const c = new ModelReadCache(2 * unit, true);
    const load = (name: string) => c.getOrLoad(name, 'model', async () => name.toUpperCase().repeat(100));
    await load('a');
    await load('b'); // room for both: kept at once
    expect(c.size).toBe(2);
    await load('c'); // full: a one-off load is not kept, nothing is dropped
    expect([c.get('a', 'model'), c.get('b', 'model'), c.get('c', 'model')]).toEqual(['A'.repeat(100), 'B'.repeat(100), undefined]);
    // A shared text never admits its model (the answer being loaded decides).
    expect(c.share(c.epoch, 'd', 'v:1', 'D'.repeat(100))).toBeUndefined();
    await load('c'); // loaded again: admitted, the least recently used model goes
    expect([c.get('a', 'model'), c.get('b', 'model'), c.get('c', 'model')]).toEqual([undefined, 'B'.repeat(100), 'C'.repeat(100)]);
    expect(c.bytes).toBe(2 * unit);
  });

  it('is bypassed while it hits under 5% of lookups, except one lookup in 16 that keeps measuring it', async () => {
    const c = new ModelReadCache(1_000_000, true);
    c.put(c.epoch, 'a', 'model', 'A');
    let loads = 0;
    const load = async () => (loads++, 'loaded');
    expect(c.paying).toBe(true);
    for (let i = 0; i < 4096; i++) await c.getOrLoad(`m${i}`, 'other', load); // a window of misses
    expect(c.paying).toBe(false); // searches then take their one-query path
    loads = 0;
    const got = [];
    for (let i = 0; i < 32; i++) got.push(await c.getOrLoad('a', 'model', load));
    expect(loads).toBe(30); // bypassed: straight to the database (always exact)
    expect(got.filter((x) => x === 'A')).toHaveLength(2); // the sampled lookups use the cache
    expect(await c.getOrLoadMany(['a', 'b'], 'model', async (names) => new Map(names.map((n) => [n, 'fresh'])))).toEqual(['fresh', 'fresh']);
    // Nothing a bypassed load returns is kept.
    await c.getOrLoad('z', 'model', load);
    expect(c.get('z', 'model')).toBeUndefined();
  });

  it('keeps one copy of a shared text, charged once', async () => {
    const c = new ModelReadCache(10_000, true);
    const v1 = 'x'.repeat(500);
    // The alias answer is loaded first: its version's text is kept under v:1 and charged there.
    const viaAlias = await c.getOrLoad('a', 'a:champion', async (epoch) => c.share(epoch, 'a', 'v:1', v1), () => 0);
    expect(viaAlias).toBe(v1);
    expect(c.bytes).toBe(cost('v:1', v1) + cost('a:champion', ''));
    // A later load of the same version's text gets the kept copy back.
    const again = 'x'.repeat(500);
    expect(c.share(c.epoch, 'a', 'v:1', again)).toBe(v1);
    expect(c.size).toBe(2);
    // A text loaded across a change is neither kept nor swapped for the kept one.
    const epoch = c.epoch;
    c.invalidate(['a']);
    expect(c.share(epoch, 'a', 'v:1', 'y'.repeat(500))).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    // Nor is a text too long to keep: the answer that holds it must then be charged for it.
    expect(c.share(c.epoch, 'a', 'v:2', 'z'.repeat(20_000))).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('loads the answers of several models at once, only those not kept, and not across a change', async () => {
    const c = new ModelReadCache(10_000, true);
    c.put(c.epoch, 'a', 'model', 'A');
    const asked: string[][] = [];
    const got = await c.getOrLoadMany(['a', 'b', 'gone'], 'model', async (missing) => {
      asked.push(missing);
      return new Map([['b', 'B']]);
    });
    expect(got).toEqual(['A', 'B', undefined]);
    expect(asked).toEqual([['b', 'gone']]);
    expect(c.get('b', 'model')).toBe('B');
    const stale = await c.getOrLoadMany(['c'], 'model', async () => {
      c.invalidate(['other']);
      return new Map([['c', 'C']]);
    });
    expect(stale).toEqual(['C']);
    expect(c.get('c', 'model')).toBeUndefined();
  });

  it('never keeps an answer bigger than its whole budget', () => {
    const c = new ModelReadCache(200, true);
    c.put(c.epoch, 'a', 'model', 'A'.repeat(150));
    expect(c.size).toBe(0);
    c.put(c.epoch, 'a', 'model', 'A'.repeat(50));
    expect(c.size).toBe(1);
  });

  it('drops the named models and every search answer on a change', () => {
    const c = new ModelReadCache(10_000, true);
    for (const n of ['a', 'b']) c.put(c.epoch, n, 'model', n);
    c.put(c.epoch, SEARCHES, 'models:[]', '{}');
    c.invalidate(['a']);
    expect(c.get('a', 'model')).toBeUndefined();
    expect(c.get(SEARCHES, 'models:[]')).toBeUndefined();
    expect(c.get('b', 'model')).toBe('b');
    expect(c.size).toBe(1);
    c.invalidate(null);
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
  });

  it('does not keep an answer loaded across a change, nor a very long one', async () => {
    const c = new ModelReadCache(10_000, true);
    const stale = await c.getOrLoad('a', 'model', async () => {
      c.invalidate(['other']); // any change while the load was in flight
      return 'old';
    });
    expect(stale).toBe('old');
    expect(c.get('a', 'model')).toBeUndefined();
    const roomy = new ModelReadCache(10_000_000, true);
    roomy.put(roomy.epoch, 'a', 'model', 'x'.repeat(300_000));
    expect(roomy.size).toBe(0);
  });

  it('uses a kept answer only once the change feed has caught up, and not one the catch-up dropped', async () => {
    let heard: string[] = [];
    let caughtUp = true;
    let calls = 0;
    // What the change feed does on catching up: hands over the changes it had not heard yet.
    const c: ModelReadCache = new ModelReadCache(10_000, true, async () => {
      calls++;
      c.invalidate(heard);
      heard = [];
      return caughtUp;
    });
    const load = (value: string) => async () => value;
    expect(await c.getOrLoad('a', 'model', load('A1'))).toBe('A1');
    expect(calls).toBe(0); // a miss reads the database, which needs no catch-up
    expect(await c.getOrLoad('a', 'model', load('unused'))).toBe('A1');
    expect(calls).toBe(1);
    heard = ['a']; // another replica changed a; this process has not heard it yet
    expect(await c.getOrLoad('a', 'model', load('A2'))).toBe('A2');
    caughtUp = false; // the feed cannot tell: the database answers
    expect(await c.getOrLoad('a', 'model', load('A3'))).toBe('A3');
    caughtUp = true;
    c.put(c.epoch, 'b', 'model', 'B1');
    heard = ['b'];
    expect(await c.getOrLoadMany(['a', 'b'], 'model', async (missing) => new Map(missing.map((m) => [m, `${m.toUpperCase()}2`])))).toEqual(['A2', 'B2']);
    caughtUp = false;
    const asked: string[][] = [];
    await c.getOrLoadMany(['a', 'b'], 'model', async (missing) => (asked.push(missing), new Map()));
    expect(asked).toEqual([['a', 'b']]);
  });

  it('does not hand out a kept version text that differs from the one just read', () => {
    const c = new ModelReadCache(10_000, true);
    c.put(c.epoch, 'a', 'v:1', 'old');
    // The database's text is newer than the kept one (a change not heard yet): the caller keeps its own.
    expect(c.share(c.epoch, 'a', 'v:1', 'new')).toBeUndefined();
    expect(c.share(c.epoch, 'a', 'v:1', 'old')).toBe('old');
  });

  it('is unused until live, and empties when it goes down', () => {
    const c = new ModelReadCache(10_000, false);
    c.put(c.epoch, 'a', 'model', 'A');
    expect(c.size).toBe(0);
    c.setLive(true);
    c.put(c.epoch, 'a', 'model', 'A');
    expect(c.get('a', 'model')).toBe('A');
    c.setLive(false);
    expect(c.get('a', 'model')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});

describe('workspaces in the read cache', () => {
  it("a change drops its own workspace's model and searches only; default keys are the bare names", () => {
    const all = SEARCHES;
    const cache = new ModelReadCache(1_000_000, true);
    const keys = [mk('team-a', 'm'), mk('team-b', 'm'), mk('default', 'm'), sk('team-a'), sk('team-b'), all];
    expect(mk('default', 'm')).toBe('m');
    expect(sk('default')).toBe(all);
    const fill = () => keys.forEach((k) => cache.put(cache.epoch, k, 'x', `v:${k}`));
    fill();
    cache.invalidate([mk('team-a', 'm')]);
    expect(keys.map((k) => cache.get(k, 'x') !== undefined)).toEqual([false, true, true, false, true, true]);
    fill();
    cache.invalidate(['m']); // a default change, also as builds before workspaces announce it
    expect(keys.map((k) => cache.get(k, 'x') !== undefined)).toEqual([true, true, false, true, true, false]);
    cache.invalidate(null);
    expect(cache.size).toBe(0);
  });
});
