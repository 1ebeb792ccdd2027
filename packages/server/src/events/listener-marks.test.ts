/**
 * PgListener's marks (mark, caughtUpSince, catchUpSince): what lets one catch-up serve every question of
 * a request (http/authn.ts), while every notification committed before the request arrived is still
 * heard before kept answers are used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger } from '../log.js';
import { PgListener } from './listener.js';

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('PgListener marks (postgres)', () => {
  const channel = `marks_${process.pid}`;
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
