/**
 * EXPLAIN ANALYZE of the SQL our server runs for each read workload (captured from RegistryQueries,
 * so it is always the store's current SQL), on a database loaded by the harness (`pnpm bench
 * --keep-db`, or dataset.ts). Each statement is planned both ways PostgreSQL may plan a named
 * prepared statement: a custom plan for the given values, and the generic plan it switches to after
 * five executions when that looks no worse.
 *
 *   tsx scripts/bench/explain.ts postgres://…/bench_small_ours_… [small|large] [workload…] [--plans]
 */
import pg from 'pg';
import type { Executor } from '../../packages/server/src/store/db.js';
import { RegistryQueries } from '../../packages/server/src/store/registry-store.js';
import { DATASETS } from './dataset.js';
import { WORKLOADS } from './workloads.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const showPlans = args.includes('--plans');
  const pos = args.filter((a) => !a.startsWith('--'));
  const url = pos[0];
  if (!url) throw new Error('usage: explain.ts DATABASE_URL [small|large] [workload…] [--plans]');
  const d = DATASETS[(pos[1] as 'small' | 'large') ?? 'small'];
  const only = pos.slice(2);
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  for (const w of WORKLOADS) {
    if (!w.floor || (only.length && !only.includes(w.id))) continue;
    const captured: { text: string; params: unknown[] }[] = [];
    const capture: Executor = {
      async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
        captured.push({ text, params: [...(params ?? [])] });
        return [] as T[];
      },
    };
    await w.floor(new RegistryQueries(capture), d).catch(() => {});
    for (const [i, { text, params }] of captured.entries()) {
      process.stdout.write(`\n=== ${w.id}${captured.length > 1 ? ` #${i + 1}` : ''}  params ${JSON.stringify(params)}\n`);
      const literal = (v: unknown): string => {
        if (v === null || v === undefined) return 'NULL';
        if (typeof v === 'number') return String(v);
        if (Array.isArray(v)) return `${client.escapeLiteral(`{${v.map((x) => `"${String(x).replace(/(["\\])/g, '\\$1')}"`).join(',')}}`)}`;
        return client.escapeLiteral(String(v));
      };
      const stmt = `explain_${w.id}_${i}`;
      // PREPARE + EXPLAIN EXECUTE: the plan a named prepared statement really gets in each mode
      // (EXPLAIN of a statement with bound parameters would always plan for the values).
      await client.query(`PREPARE ${stmt} AS ${text}`);
      for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
        await client.query(`SET plan_cache_mode = ${mode}`);
        const times: number[] = [];
        const plans: number[] = [];
        let plan = '';
        for (let k = 0; k < 6; k++) {
          const res = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE ${stmt}(${params.map(literal).join(', ')})`);
          const lines = res.rows.map((r) => r['QUERY PLAN']);
          const exec = Number(/Execution Time: ([\d.]+)/.exec(lines.join('\n'))?.[1] ?? NaN);
          const planning = Number(/Planning Time: ([\d.]+)/.exec(lines.join('\n'))?.[1] ?? 0);
          if (k > 0) times.push(exec);
          if (k > 0) plans.push(planning);
          plan = lines.join('\n');
        }
        times.sort((a, b) => a - b);
        plans.sort((a, b) => a - b);
        const top = plan.split('\n')[0]!;
        process.stdout.write(`  ${mode.replace('force_', '').padEnd(13)} execution ${times[2]!.toFixed(3)} ms, planning ${plans[2]!.toFixed(3)} ms (medians of 5)   ${top.trim().slice(0, 110)}\n`);
        if (showPlans) process.stdout.write(plan.replace(/^/gm, '      ') + '\n');
      }
      await client.query(`DEALLOCATE ${stmt}`);
      // What PostgreSQL chooses on its own (plan_cache_mode = auto) after 20 executions with varying values.
      await client.query('RESET plan_cache_mode');
      const auto = `auto_${w.id}_${i}`;
      for (let k = 0; k < 20; k++) {
        const p2: unknown[] = [];
        await w.floor(new RegistryQueries({ query: async (_t: string, p?: readonly unknown[]) => (p2.push(...(p ?? [])), []) } as Executor), d).catch(() => {});
        await client.query({ text, values: p2.length ? p2 : params, name: auto });
      }
      const ps = await client.query<{ generic_plans: string; custom_plans: string }>(
        'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1',
        [auto],
      );
      process.stdout.write(`  auto (what PostgreSQL picks): ${ps.rows[0]?.generic_plans} generic / ${ps.rows[0]?.custom_plans} custom plans in 20 executions\n`);
    }
  }
  await client.query('RESET plan_cache_mode');
  await client.end();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
