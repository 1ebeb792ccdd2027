import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger } from '../log.js';
import { coalesced, PgListener } from './listener.js';
import { followChanges } from './changes.js';
import { ModelReadCache } from '../registry/read-cache.js';
import { MlflowError } from '../errors.js';
import type { Executor } from '../store/db.js';

const url = process.env.TEST_DATABASE_URL;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesced', () => {
  it('runs one call at a time; the callers arriving during one share the next, which starts when it ends', async () => {
    const ends: ((v: number) => void)[] = [];
    const run = coalesced(() => new Promise<number>((resolve) => ends.push(resolve)));
    const a = run();
    const b = run();
    const c = run();
    await settle();
    expect(ends).toHaveLength(1); // b and c wait: the call in flight began before they were made
    ends[0]!(1);
    expect(await a).toBe(1);
    await settle();
    expect(ends).toHaveLength(2);
    const d = run(); // made while the second is in flight: waits for a third
    ends[1]!(2);
    expect([await b, await c]).toEqual([2, 2]);
    await settle();
    expect(ends).toHaveLength(3);
    ends[2]!(3);
    expect(await d).toBe(3);
    // Idle again: the next call starts at once, and a failure reaches its callers only.
    const failing = coalesced(() => Promise.reject(new Error('down')));
    await expect(failing()).rejects.toThrow('down');
    const e = run();
    await settle();
    expect(ends).toHaveLength(4);
    ends[3]!(4);
    expect(await e).toBe(4);
  });
});

describe.skipIf(!url)('PgListener.catchUp (postgres)', () => {
  const channel = `catch_up_${process.pid}`;
  let heard = 0;
  let listener: PgListener;
  let writer: pg.Client;
  beforeAll(async () => {
    listener = new PgListener({ databaseUrl: url!, log: createLogger('silent') });
    listener.subscribe(channel, { notify: (payload) => (heard = Math.max(heard, Number(payload))) });
    await listener.start();
    writer = new pg.Client({ connectionString: url });
    await writer.connect();
  });
  afterAll(async () => {
    await writer?.end();
    await listener?.stop();
  });

  it('has handed every notification committed before the call to the subscribers when it resolves', async () => {
    let n = 0;
    const notify = () => writer.query('SELECT pg_notify($1, $2)', [channel, String(++n)]);
    // Without catching up, a notification committed a moment ago is often not heard yet: this is
    // the window catchUp closes (and what makes the check below able to fail).
    let notYet = 0;
    for (let i = 0; i < 200; i++) {
      await notify();
      if (heard < n) notYet++;
    }
    expect(notYet).toBeGreaterThan(0);
    let missed = 0;
    for (let i = 0; i < 500; i++) {
      await notify();
      expect(await listener.catchUp()).toBe(true);
      if (heard < n) missed++;
    }
    expect(missed).toBe(0);
  });

  it('lets callers waiting at the same moment share a round trip, and covers each of them', async () => {
    let n = heard;
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const mine = ++n;
        await writer.query('SELECT pg_notify($1, $2)', [channel, String(mine)]);
        return (await listener.catchUp()) && heard >= mine;
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  });

  it('survives the termination of its connection: down, then up again, and catches up again', async () => {
    const events: string[] = [];
    const own = new PgListener({ databaseUrl: url!, log: createLogger('silent'), retryMs: 100 });
    own.subscribe(`${channel}_t`, { notify: () => {}, up: () => events.push('up'), down: () => events.push('down') });
    await own.start();
    try {
      const pid = own.pid;
      expect(pid).toBeGreaterThan(0);
      await writer.query('SELECT pg_terminate_backend($1)', [pid]);
      const deadline = Date.now() + 5000;
      while ((events.filter((e) => e === 'up').length < 2 || own.pid === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(events).toEqual(['up', 'down', 'up']);
      expect(own.pid).not.toBe(pid);
      expect(await own.catchUp()).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('answers false while LISTEN is not established', async () => {
    const idle = new PgListener({ databaseUrl: url!, log: createLogger('silent') });
    expect(await idle.catchUp()).toBe(false); // never started
    idle.subscribe('unused_channel', { notify: () => {} });
    await idle.start();
    expect(await idle.catchUp()).toBe(true);
    await idle.stop();
    expect(await idle.catchUp()).toBe(false);
  });

  // The marks (mark, caughtUpSince, catchUpSince): what lets one catch-up serve every question of a request
  // (http/authn.ts), while every notification committed before the request arrived is still heard before kept
  // answers are used.
  it('counts a mark as caught up only once a catch-up sent after it has completed', async () => {
    const mark = listener.mark();
    expect(listener.caughtUpSince(mark)).toBe(false);
    expect(await listener.catchUp()).toBe(true);
    expect(listener.caughtUpSince(mark)).toBe(true); // another caller's round trip covers it
    expect(listener.caughtUpSince(listener.mark())).toBe(false); // a later mark needs a later one
  });

  it('joins the round trip in flight when it was sent after the mark, else waits for the next', async () => {
    // mark() counts the round trips sent, so it shows whether a call sent one of its own.
    const mark = listener.mark();
    const inFlight = listener.catchUp();
    const joined = listener.catchUpSince(mark); // the one in flight was sent after the mark: shared
    expect(listener.mark()).toBe(mark + 1);
    const later = listener.mark();
    const next = listener.catchUpSince(later); // the one in flight may predate `later`'s changes
    expect([await inFlight, await joined]).toEqual([true, true]);
    expect(listener.caughtUpSince(mark)).toBe(true);
    expect(await next).toBe(true);
    expect(listener.mark()).toBe(mark + 2);
    expect(listener.caughtUpSince(later)).toBe(true);
  });

  it('has heard every notification committed before the mark once it answers true, however it got there', async () => {
    let n = heard;
    let missed = 0;
    for (let i = 0; i < 300; i++) {
      const mine = ++n;
      await writer.query('SELECT pg_notify($1, $2)', [channel, String(mine)]);
      const mark = listener.mark();
      // Half of the time another caller's catch-up is already under way when this one asks.
      const other = i % 2 === 0 ? listener.catchUp() : undefined;
      const ok = listener.caughtUpSince(mark) || (await listener.catchUpSince(mark));
      expect(ok).toBe(true);
      if (heard < mine) missed++;
      await other;
    }
    expect(missed).toBe(0);
  });

  it('is never caught up while LISTEN is not established', async () => {
    const idle = new PgListener({ databaseUrl: url!, log: createLogger('silent') });
    const mark = idle.mark();
    expect(await idle.catchUpSince(mark)).toBe(false);
    expect(idle.caughtUpSince(mark)).toBe(false);
  });
});

describe('followChanges', () => {
  it('keeps trying to go live when the database fails while LISTEN works (the cache resumes by itself)', async () => {
    let subscriber: { up?(): void } = {};
    const listener = { pid: 4242, subscribe: (_c: string, s: { up?(): void }) => (subscriber = s) } as unknown as PgListener;
    let failures = 3;
    const db: Executor = {
      async query<T>(text: string): Promise<T[]> {
        if (text.startsWith('INSERT INTO registry_cache_listeners')) {
          if (failures-- > 0) throw new MlflowError('TEMPORARILY_UNAVAILABLE', 'The database is temporarily unavailable (ECONNREFUSED); retry later.');
          return [];
        }
        if (text.includes('pg_current_xact_id')) return [{ x: '1' }] as T[];
        if (text.includes('NOT EXISTS (SELECT 1 FROM pg_stat_activity')) return [{ done: true }] as T[];
        return [];
      },
    };
    const cache = new ModelReadCache(1_000_000, false, async () => true);
    const feed = followChanges(listener, db, cache, createLogger('silent'));
    subscriber.up!();
    const deadline = Date.now() + 5000;
    while (!cache.live && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(failures).toBeLessThan(0);
    expect(cache.live).toBe(true);
    await feed.stop();
  });
});
