/**
 * Summarises a V8 .cpuprofile (node --cpu-prof, e.g. `pnpm bench --cpu-prof DIR`): self time by
 * function and by component (a package under node_modules, node's internals, our source files,
 * GC, idle), and inclusive time of our own functions.
 *
 *   tsx scripts/bench/profile-summary.ts DIR/CPU.*.cpuprofile [--top 30] [--from S]
 *
 * --from S ignores the first S seconds of the profile (start-up: module loading, migrations).
 */
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function component(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url;
}

function main(): void {
  const args = process.argv.slice(2);
  const topIdx = args.indexOf('--top');
  const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 30;
  const fromIdx = args.indexOf('--from');
  const fromUs = fromIdx >= 0 ? Number(args[fromIdx + 1]) * 1e6 : 0;
  const files = args.filter((a, i) => !a.startsWith('--') && (topIdx < 0 || i !== topIdx + 1) && (fromIdx < 0 || i !== fromIdx + 1));
  for (const file of files) {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const selfUs = new Map<number, number>();
    let t = 0;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (t < fromUs) continue;
      selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
    const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
    const idle = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
    const busy = total - idle;

    const byFn = new Map<string, number>();
    const byComp = new Map<string, number>();
    const inclusive = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const cf = byId.get(id)!.callFrame;
      if (cf.functionName === '(idle)') continue;
      const key = `${cf.functionName || '(anonymous)'} ${component(cf.url, cf.functionName)}:${cf.lineNumber + 1}`;
      byFn.set(key, (byFn.get(key) ?? 0) + us);
      const comp = component(cf.url, cf.functionName);
      byComp.set(comp, (byComp.get(comp) ?? 0) + us);
      // inclusive time for our own source functions (each function counted once per stack)
      const seen = new Set<string>();
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
        const f = byId.get(n)!.callFrame;
        if (!/\/packages\/server\/(src|dist)\//.test(f.url)) continue;
        const k = `${f.functionName || '(anonymous)'} ${component(f.url, f.functionName)}:${f.lineNumber + 1}`;
        if (seen.has(k)) continue;
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + us);
      }
    }
    const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
    const print = (title: string, m: Map<string, number>, n: number) => {
      process.stdout.write(`\n  ${title}\n`);
      for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`  ${pct(v)}  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
    };
    process.stdout.write(`\n${file}\n  wall ${((p.endTime - p.startTime - fromUs) / 1e6).toFixed(1)} s${fromUs ? ` (after the first ${fromUs / 1e6} s)` : ''}, busy ${(busy / 1e6).toFixed(2)} s (${((busy / total) * 100).toFixed(0)} % of samples); percentages are of busy time\n`);
    print('self time by component', byComp, 20);
    print('self time by function', byFn, top);
    print('inclusive time, our source', inclusive, 20);
  }
}

main();
