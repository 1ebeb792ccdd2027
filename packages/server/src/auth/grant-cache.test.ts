import { describe, expect, it } from 'vitest';
import { GrantCache, UserGrants } from './grant-cache.js';
import type { Grant } from './permissions.js';

const g = (resourceType: string, resourcePattern: string, permission = 'READ'): Grant => ({ resourceType, resourcePattern, permission });

/** A load that counts its calls and answers `rows`. */
function loader(rows: Grant[]) {
  const l = Object.assign(async (limit: number) => (l.calls++, rows.slice(0, limit + 1)), { calls: 0 });
  return l;
}

describe('GrantCache', () => {
  it('keeps a user’s grants per workspace until invalidated', async () => {
    const cache = new GrantCache({ maxGrants: 100 });
    const load = loader([g('registered_model', 'm')]);
    expect((await cache.grants(1, 'default', load))?.all).toEqual([g('registered_model', 'm')]);
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(1);
    await cache.grants(1, 'other', load);
    await cache.grants(2, 'default', load);
    expect(load.calls).toBe(3);
    cache.invalidate();
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(4);
  });

  it('does not keep a load that was in flight while the cache was invalidated', async () => {
    const cache = new GrantCache({ maxGrants: 100 });
    let release!: () => void;
    const slow = async () => {
      await new Promise<void>((r) => (release = r));
      return [g('registered_model', 'old')];
    };
    const pending = cache.grants(1, 'default', slow);
    await Promise.resolve();
    cache.invalidate(); // a grant was revoked while the old rows were on their way
    release();
    expect((await pending)?.all).toEqual([g('registered_model', 'old')]); // the request that asked gets them
    const load = loader([]);
    expect((await cache.grants(1, 'default', load))?.all).toEqual([]);
    expect(load.calls).toBe(1);
  });

  it('stays within its budget of grant rows, dropping the least recently used first', async () => {
    const cache = new GrantCache({ maxGrants: 10 });
    const three = [g('registered_model', 'a'), g('registered_model', 'b'), g('prompt', 'c')]; // costs 4
    for (let user = 1; user <= 5; user++) {
      await cache.grants(user, 'default', loader(three));
      expect(cache.cost).toBeLessThanOrEqual(10);
    }
    expect(cache.size).toBe(2);
    const load = loader(three);
    await cache.grants(5, 'default', load);
    await cache.grants(4, 'default', load);
    expect(load.calls).toBe(0);
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(1);
  });

  it('answers undefined for a user with more grants than the budget, and remembers that cheaply', async () => {
    const cache = new GrantCache({ maxGrants: 5 });
    const many = Array.from({ length: 20 }, (_, i) => g('registered_model', `m${i}`, 'MANAGE'));
    const load = loader(many);
    expect(await cache.grants(1, 'default', load)).toBeUndefined();
    expect(await cache.grants(1, 'default', load)).toBeUndefined();
    expect(load.calls).toBe(1);
    expect(cache.cost).toBe(1);
  });

  it('neither keeps nor uses anything while not live, and starts empty when live again', async () => {
    let live = false;
    const cache = new GrantCache({ maxGrants: 100, live: () => live });
    const load = loader([g('registered_model', 'm')]);
    await cache.grants(1, 'default', load);
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(2);
    expect(cache.size).toBe(0);
    live = true;
    await cache.grants(1, 'default', load);
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(3);
    live = false;
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(4);
  });

  it('uses a kept entry only when the caller has caught up with the change feed', async () => {
    const cache = new GrantCache({ maxGrants: 100 });
    const load = loader([g('registered_model', 'm')]);
    await cache.grants(1, 'default', load, true);
    await cache.grants(1, 'default', load, true);
    expect(load.calls).toBe(1);
    await cache.grants(1, 'default', load, false); // cannot tell: ask the database
    expect(load.calls).toBe(2);
    await cache.grants(1, 'default', load, true);
    expect(load.calls).toBe(2);
  });

  it('trusts an entry for ttlMs only when no change feed reaches it', async () => {
    let now = 0;
    const cache = new GrantCache({ maxGrants: 100, ttlMs: 1000, now: () => now });
    const load = loader([]);
    await cache.grants(1, 'default', load);
    now = 999;
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(1);
    now = 1000;
    await cache.grants(1, 'default', load);
    expect(load.calls).toBe(2);
  });

  it('is off with a budget of 0', async () => {
    const cache = new GrantCache({ maxGrants: 0 });
    expect(cache.enabled).toBe(false);
  });
});

describe('UserGrants', () => {
  const grants = new UserGrants([
    g('registered_model', 'a'),
    g('registered_model', '*', 'DENY'),
    g('prompt', 'a', 'EDIT'),
    g('prompt', 'b'),
    g('registered_model_version', '*', 'DENY'),
    g('workspace', '*', 'USE'),
    g('experiment', '1'),
    g('run', '*'),
  ]);

  it('forModel: what AuthStore.registryAccess loads for one name', () => {
    expect(grants.forModel('a')).toEqual([
      g('registered_model', '*', 'DENY'),
      g('registered_model_version', '*', 'DENY'),
      g('workspace', '*', 'USE'),
      g('registered_model', 'a'),
      g('prompt', 'a', 'EDIT'),
    ]);
    expect(grants.forModel('zzz')).toEqual([g('registered_model', '*', 'DENY'), g('registered_model_version', '*', 'DENY'), g('workspace', '*', 'USE')]);
  });

  it('ofTypes: what AuthStore.grantsFor loads', () => {
    expect(grants.ofTypes(['experiment', 'run'])).toEqual([g('workspace', '*', 'USE'), g('experiment', '1'), g('run', '*')]);
    expect(grants.ofTypes([])).toEqual([g('workspace', '*', 'USE')]);
  });
});
