/**
 * The copy's progress output: on a terminal a status line redrawn in place with finished lines above
 * it; elsewhere plain lines only (no escape sequences in logs).
 */
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes } from '../../packages/server/src/cli/progress.js';

function fakeStream() {
  const writes: string[] = [];
  return { writes, stream: { columns: 40, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream };
}

describe('progress', () => {
  it('redraws one status line on a terminal, at most every 100 ms, with lines printed above it', async () => {
    const { writes, stream } = fakeStream();
    const p = createProgress(stream, true);
    p.status('[1/3 models] a status line that is longer than the forty columns of this terminal');
    expect(writes).toEqual(['\r\x1b[K[1/3 models] a status line that is long']);
    p.status('[2/3 models]'); // within 100 ms: drawn later
    p.status('[3/3 models]');
    expect(writes).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(writes.at(-1)).toBe('\r\x1b[K[3/3 models]');
    p.line('model a: created');
    expect(writes.slice(-2)).toEqual(['\r\x1b[Kmodel a: created\n', '\r\x1b[K[3/3 models]']);
    p.done();
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('prints plain lines and no status elsewhere', () => {
    const { writes, stream } = fakeStream();
    const p = createProgress(stream, false);
    p.status('[1/3 models]');
    p.line('model a: created');
    p.done();
    expect(writes).toEqual(['model a: created\n']);
  });

  it('formats sizes', () => {
    expect([0, 999, 1000, 1_234_567, 5e12].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '1.2 MB', '5.0 TB']);
  });
});
