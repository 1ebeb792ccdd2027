/**
 * Resource sampling from /proc: a server's whole process tree (MLflow runs a CLI parent, a uvicorn
 * master, its workers and a job runner with huey consumers; ours is one node process), and the
 * machine's busy CPU (others share the box, so every cell records how busy it was).
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
const PAGE_KB = (() => {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) / 1024 || 4;
  } catch {
    return 4;
  }
})();

interface Stat {
  ppid: number;
  /** utime + stime, seconds */
  cpu: number;
  rssKb: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] = state (field 3), so field n is f[n - 3].
  return {
    ppid: Number(f[1]),
    cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    rssKb: Number(f[21]) * PAGE_KB,
  };
}

function readHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** `root` and all its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(Number(entry));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(Number(entry));
    else children.set(st.ppid, [Number(entry)]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

export interface TreeSample {
  pids: number;
  cpuSeconds: number;
  rssKb: number;
  hwmKb: number;
}

export function sampleTree(pids: readonly number[]): TreeSample {
  let cpu = 0;
  let rss = 0;
  let hwm = 0;
  let n = 0;
  for (const pid of pids) {
    const st = readStat(pid);
    if (!st) continue;
    n++;
    cpu += st.cpu;
    rss += st.rssKb;
    hwm += readHwmKb(pid);
  }
  return { pids: n, cpuSeconds: cpu, rssKb: rss, hwmKb: hwm };
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

export interface CellResources {
  /** Average cores used by the server's process tree during the cell. */
  serverCores: number;
  /** CPU milliseconds the server spent per request. */
  cpuMsPerRequest?: number;
  /** Highest sampled sum of RSS over the tree during the cell. */
  peakRssMb: number;
  /** Sum of VmHWM over the tree at the end of the cell (each process' peak since it started). */
  hwmMb: number;
  /** Peak sampled RSS of the HTTP-serving part only (MLflow: the uvicorn subtree), when it differs. */
  peakHttpRssMb?: number;
  /** CPU milliseconds per request of that HTTP-serving part alone. */
  httpCpuMsPerRequest?: number;
  /** Average busy cores of the whole machine during the cell (load generator, PostgreSQL, everyone else). */
  machineCores: number;
  /** CPU milliseconds PostgreSQL's backends for this server's database spent per request. */
  dbCpuMsPerRequest?: number;
  /** Average cores used by those backends. */
  dbCores?: number;
}

/**
 * Samples a server's tree every `intervalMs` until stopped. `httpRoot`, if given, picks the subtree
 * that serves HTTP (for MLflow, the uvicorn master) to report its RSS separately.
 */
export class TreeSampler {
  private timer: NodeJS.Timeout | undefined;
  private pids: number[] = [];
  private httpPids: number[] = [];
  private peakRss = 0;
  private peakHttpRss = 0;
  private startCpu = 0;
  private startHttp = new Map<number, number>();
  private startMachine = { busy: 0, total: 0 };
  private startTime = 0;
  private ticks = 0;

  constructor(
    private readonly root: number,
    private readonly httpRoot: () => number | undefined = () => undefined,
    private readonly intervalMs = 100,
  ) {}

  private refresh(): void {
    this.pids = processTree(this.root);
    const h = this.httpRoot();
    this.httpPids = h === undefined ? [] : processTree(h);
  }

  private sample(): TreeSample {
    if (this.ticks++ % 10 === 0) this.refresh();
    const s = sampleTree(this.pids);
    if (s.rssKb > this.peakRss) this.peakRss = s.rssKb;
    if (this.httpPids.length > 0) {
      const h = sampleTree(this.httpPids);
      if (h.rssKb > this.peakHttpRss) this.peakHttpRss = h.rssKb;
    }
    return s;
  }

  private httpCpu(): Map<number, number> {
    const m = new Map<number, number>();
    for (const pid of this.httpPids) {
      const st = readStat(pid);
      if (st) m.set(pid, st.cpu);
    }
    return m;
  }

  start(): void {
    this.refresh();
    this.startHttp = this.httpCpu();
    this.ticks = 1;
    this.peakRss = 0;
    this.peakHttpRss = 0;
    this.startCpu = this.sample().cpuSeconds;
    this.startMachine = machineCpu();
    this.startTime = performance.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(requests?: number): CellResources {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const end = this.sample();
    const m = machineCpu();
    const wall = (performance.now() - this.startTime) / 1000;
    const cpu = end.cpuSeconds - this.startCpu;
    const res: CellResources = {
      serverCores: cpu / wall,
      peakRssMb: this.peakRss / 1024,
      hwmMb: end.hwmKb / 1024,
      machineCores: (m.busy - this.startMachine.busy) / wall,
    };
    if (requests) res.cpuMsPerRequest = (cpu * 1000) / requests;
    if (this.peakHttpRss > 0) res.peakHttpRssMb = this.peakHttpRss / 1024;
    if (requests && this.httpPids.length > 0) {
      let http = 0;
      for (const [pid, c] of this.httpCpu()) http += c - (this.startHttp.get(pid) ?? 0);
      res.httpCpuMsPerRequest = (http * 1000) / requests;
    }
    return res;
  }
}

/**
 * CPU time spent by the PostgreSQL backends serving one database (pg_stat_activity → /proc), so
 * every cell can say how much database CPU a request costs, apart from everyone else's queries.
 * Backends born during the cell count from zero; one that exits during the cell is lost (pools keep
 * theirs open, so that is rare).
 */
export class DbCpuSampler {
  private start = new Map<number, number>();

  constructor(
    private readonly pids: () => Promise<number[]>,
  ) {}

  private static cpu(pids: number[]): Map<number, number> {
    const m = new Map<number, number>();
    for (const pid of pids) {
      const s = readStat(pid);
      if (s) m.set(pid, s.cpu);
    }
    return m;
  }

  async begin(): Promise<void> {
    this.start = DbCpuSampler.cpu(await this.pids());
  }

  /** CPU seconds of the database's backends since begin(). */
  async end(): Promise<number> {
    const now = DbCpuSampler.cpu([...new Set([...(await this.pids()), ...this.start.keys()])]);
    let total = 0;
    for (const [pid, cpu] of now) total += cpu - (this.start.get(pid) ?? 0);
    return total;
  }
}
