import { describe, expect, it } from 'vitest';
import { ModelReadCache, SEARCHES } from './read-cache.js';

describe('ModelReadCache', () => {
  it('counts answers, and drops whole models, least recently used first, past its size', () => {
    const c = new ModelReadCache(4, true);
    c.put(c.epoch, 'a', 'model', 'A');
    c.put(c.epoch, 'a', 'v:1', 'A1');
    c.put(c.epoch, 'b', 'model', 'B');
    c.put(c.epoch, 'b', 'model', 'B again'); // replaces, not counted twice
    expect(c.size).toBe(3);
    expect(c.get('a', 'model')).toBe('A'); // a is now the most recent
    c.put(c.epoch, 'c', 'model', 'C');
    c.put(c.epoch, 'c', 'v:1', 'C1'); // 5 answers: b goes
    expect(c.size).toBe(4);
    expect(c.get('b', 'model')).toBeUndefined();
    expect(c.get('a', 'v:1')).toBe('A1');
    expect(c.get('c', 'v:1')).toBe('C1');
  });

  it('drops the named models and every search answer on a change', () => {
    const c = new ModelReadCache(100, true);
    for (const n of ['a', 'b']) c.put(c.epoch, n, 'model', n);
    c.put(c.epoch, SEARCHES, 'models:[]', '{}');
    c.invalidate(['a']);
    expect(c.get('a', 'model')).toBeUndefined();
    expect(c.get(SEARCHES, 'models:[]')).toBeUndefined();
    expect(c.get('b', 'model')).toBe('b');
    expect(c.size).toBe(1);
    c.invalidate(null);
    expect(c.size).toBe(0);
  });

  it('does not keep an answer loaded across a change, nor a very long one', async () => {
    const c = new ModelReadCache(100, true);
    const stale = await c.getOrLoad('a', 'model', async () => {
      c.invalidate(['other']); // any change while the load was in flight
      return 'old';
    });
    expect(stale).toBe('old');
    expect(c.get('a', 'model')).toBeUndefined();
    c.put(c.epoch, 'a', 'model', 'x'.repeat(300_000));
    expect(c.size).toBe(0);
  });

  it('is unused until live, and empties when it goes down', () => {
    const c = new ModelReadCache(100, false);
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
