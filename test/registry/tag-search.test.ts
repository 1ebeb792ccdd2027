/**
 * Registered-model search with a tag equality reads its page from the tag index in name order
 * (store/registry-store.ts). These tests pin that path to the same answers as the general one:
 * every page of a paginated walk, combined conditions on the same and other keys, prompts excluded,
 * other orders, and tag values far beyond a btree entry's limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

describe.each(backendsWithS3())('tag-equality search (%s)', (backend) => {
  const c = useServer(backend);
  let p: string;
  let red: string[];

  beforeAll(async () => {
    p = uniq('tagidx');
    red = [];
    // 23 red models interleaved with blue ones and untagged ones, created in shuffled name order.
    const order = [...Array(40).keys()].sort((a, b) => ((a * 7919) % 40) - ((b * 7919) % 40));
    for (const i of order) {
      const name = `${p}-${String(i).padStart(2, '0')}`;
      const team = i % 7 === 3 ? undefined : i < 23 + Math.floor(i / 7) ? 'red' : 'blue';
      const tags = [{ key: 'zone', value: i % 2 === 0 ? 'even' : 'odd' }];
      if (team) tags.push({ key: 'team', value: team });
      await c.createModel(name, { tags });
      if (team === 'red') red.push(name);
    }
    red.sort();
    // A prompt carrying the same tag is never returned by a model search.
    await c.createModel(`${p}-prompt`, {
      tags: [
        { key: 'team', value: 'red' },
        { key: 'mlflow.prompt.is_prompt', value: 'true' },
      ],
    });
  });

  const walk = async (query: Record<string, unknown>, pageSize: number): Promise<string[]> => {
    const names: string[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await c.searchModels({ ...query, max_results: pageSize, ...(token ? { page_token: token } : {}) });
      names.push(...(res.registered_models ?? []).map((m: any) => m.name));
      token = res.next_page_token;
      if (!token) return names;
    }
    throw new Error('pagination did not end');
  };

  it('walks every page in name order, with no model twice and none missing', async () => {
    expect(red.length).toBeGreaterThan(15);
    for (const size of [1, 4, 7, 100]) {
      expect(await walk({ filter: `tags.team = 'red' AND name LIKE '${p}-%'` }, size)).toEqual(red);
    }
  });

  it('descending name order and other orders give the same set', async () => {
    expect(await walk({ filter: `tags.team = 'red' AND name LIKE '${p}-%'`, order_by: ['name DESC'] }, 5)).toEqual([...red].reverse());
    const byTime = await walk({ filter: `tags.team = 'red' AND name LIKE '${p}-%'`, order_by: ['last_updated_timestamp ASC'] }, 6);
    expect([...byTime].sort()).toEqual(red);
  });

  it('combines with conditions on the same key and on other keys', async () => {
    const odd = red.filter((n) => Number(n.slice(-2)) % 2 === 1);
    expect(await walk({ filter: `tags.team = 'red' AND tags.zone = 'odd' AND name LIKE '${p}-%'` }, 3)).toEqual(odd);
    expect(await walk({ filter: `tags.zone = 'odd' AND tags.team = 'red' AND name LIKE '${p}-%'` }, 3)).toEqual(odd);
    expect(await walk({ filter: `tags.team = 'red' AND tags.team LIKE 'r%' AND name LIKE '${p}-%'` }, 5)).toEqual(red);
    expect(await walk({ filter: `tags.team = 'red' AND tags.team != 'red' AND name LIKE '${p}-%'` }, 5)).toEqual([]);
    expect(await walk({ filter: `tags.team = 'red' AND tags.team = 'blue'` }, 5)).toEqual([]);
    expect(await walk({ filter: `tags.team = 'RED' AND name LIKE '${p}-%'` }, 5)).toEqual([]);
  });

  it('asking for prompts returns the prompt only', async () => {
    const res = await c.searchModels({ filter: `tags.team = 'red' AND tags.\`mlflow.prompt.is_prompt\` = 'true' AND name LIKE '${p}%'` });
    expect(res.registered_models.map((m: any) => m.name)).toEqual([`${p}-prompt`]);
  });

  it('finds models by tag values of several kilobytes (beyond a btree entry of the raw value)', async () => {
    const long = 'x'.repeat(4990) + 'end';
    await c.createModel(`${p}-long-a`, { tags: [{ key: 'blob', value: long }] });
    await c.createModel(`${p}-long-b`, { tags: [{ key: 'blob', value: long.replace('end', 'END') }] });
    const res = await c.searchModels({ filter: `tags.blob = '${long}'` });
    expect(res.registered_models.map((m: any) => m.name)).toEqual([`${p}-long-a`]);
  });
});
