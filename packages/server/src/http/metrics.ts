/**
 * Prometheus metrics at GET /metrics (METRICS_ENABLED=true, like MLflow's --expose-prometheus).
 * prom-client is imported only then: with metrics off this module's code never runs and nothing is
 * loaded or measured.
 *
 * Requests are counted by operationId (the contract's, never the raw path: the label set is bounded by
 * the route table; routes outside the operations by their spec path; anything unmatched, including
 * a known path with a wrong method, is `unknown`), method and status; latency is a histogram by
 * operationId, method and status class, measured until the response head is ready (a streamed artifact
 * body is not included). Gauges are read when Prometheus scrapes: database pools, the webhook queue
 * (one indexed count, at most every QUEUE_TTL_MS), read-cache use, and node's process metrics.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Executor } from '../store/db.js';

/** Connections of one pg pool now. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** What the metrics read when scraped; each is optional (PGlite has no pool, a cache may be off…). */
export interface MetricsSources {
  version: string;
  /** `postgres` or `pglite`. */
  database: string;
  /** The pg pools by name (`registry`, `auth`, `webhooks`); a source answering undefined is skipped. */
  pools: { name: string; stats: () => PoolStats | undefined }[];
  /** The database holding webhook_deliveries, for the queue depth. */
  queueDb?: Executor;
  /** Delivery outcomes of this process's worker since start, by outcome. */
  deliveries?: () => Readonly<Record<string, number>>;
  /** The read cache's counters. */
  cache?: { readonly hits: number; readonly misses: number; readonly bytes: number; readonly size: number };
}

export interface Metrics {
  /** Counts and times every request; mount it right after the request-id middleware. */
  middleware: MiddlewareHandler;
  /** GET /metrics. */
  handler: () => Promise<Response>;
  /** The registry's text now (tests). */
  text(): Promise<string>;
}

const PREFIX = 'mlflow_registry_';
/** Seconds: from a cached read (sub-millisecond) to a slow upload or search. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const UNKNOWN = 'unknown';
/** The queue count is reused for this long (several Prometheus servers may scrape). */
const QUEUE_TTL_MS = 5_000;
/** A scrape never waits longer than this for the queue count (the database may be down). */
const QUEUE_TIMEOUT_MS = 1_000;

const QUEUE_SQL = `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE status IN ('PENDING', 'IN_FLIGHT') GROUP BY status`;

/**
 * @param labels the operation label of each route, by `METHOD honoPath` (http/app.ts builds it from the
 *   generated tables)
 */
export async function createMetrics(sources: MetricsSources, labels: ReadonlyMap<string, string>): Promise<Metrics> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new prom.Gauge({
    name: `${PREFIX}info`,
    help: 'Server version and database kind (always 1).',
    labelNames: ['version', 'database'] as const,
    registers,
  }).set({ version: sources.version, database: sources.database }, 1);

  const requests = new prom.Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by operationId (unknown: no route), method and status code.',
    labelNames: ['operation', 'method', 'status'] as const,
    registers,
  });
  const latency = new prom.Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time until the response head was ready, by operationId, method and status class (2xx, 4xx, …).',
    labelNames: ['operation', 'method', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inFlight = new prom.Gauge({ name: `${PREFIX}http_requests_in_flight`, help: 'Requests being handled now.', registers });

  new prom.Gauge({
    name: `${PREFIX}db_pool_connections`,
    help: 'PostgreSQL pool connections by pool and state (total, idle, max); none on the embedded database.',
    labelNames: ['pool', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of sources.pools) {
        const s = p.stats();
        if (!s) continue;
        this.set({ pool: p.name, state: 'total' }, s.total);
        this.set({ pool: p.name, state: 'idle' }, s.idle);
        this.set({ pool: p.name, state: 'max' }, s.max);
      }
    },
  });
  new prom.Gauge({
    name: `${PREFIX}db_pool_waiting_requests`,
    help: 'Queries waiting for a connection of the pool.',
    labelNames: ['pool'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of sources.pools) {
        const s = p.stats();
        if (s) this.set({ pool: p.name }, s.waiting);
      }
    },
  });

  if (sources.queueDb) {
    const db = sources.queueDb;
    let cached: { at: number; counts: Record<string, number> } | undefined;
    let pending: Promise<Record<string, number> | undefined> | undefined;
    const count = async (): Promise<Record<string, number> | undefined> => {
      if (cached && performance.now() - cached.at < QUEUE_TTL_MS) return cached.counts;
      pending ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), QUEUE_TIMEOUT_MS)));
          const rows = await Promise.race([db.query<{ status: string; n: number }>(QUEUE_SQL), timeout]);
          if (!rows) return undefined;
          const counts: Record<string, number> = { pending: 0, in_flight: 0 };
          for (const r of rows) counts[r.status === 'IN_FLIGHT' ? 'in_flight' : 'pending'] = Number(r.n);
          cached = { at: performance.now(), counts };
          return counts;
        } catch {
          return undefined; // the database is unavailable: no sample this time
        } finally {
          clearTimeout(timer);
          pending = undefined;
        }
      })();
      return pending;
    };
    new prom.Gauge({
      name: `${PREFIX}webhook_deliveries_queued`,
      help: 'Webhook deliveries not finished yet, in the whole database (all replicas): pending (due now or later) and in_flight.',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const counts = await count();
        this.reset();
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  if (sources.deliveries) {
    const read = sources.deliveries;
    new prom.Counter({
      name: `${PREFIX}webhook_deliveries_total`,
      help: "Delivery attempts finished by this process's worker, by outcome: delivered, retry (will be retried), failed, cancelled, unrecorded (the claim expired first).",
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        for (const [outcome, n] of Object.entries(read())) this.inc({ outcome }, n);
      },
    });
  }

  if (sources.cache) {
    const cache = sources.cache;
    new prom.Counter({
      name: `${PREFIX}read_cache_lookups_total`,
      help: 'Read-cache lookups by result (hit, miss).',
      labelNames: ['result'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, cache.hits);
        this.inc({ result: 'miss' }, cache.misses);
      },
    });
    new prom.Gauge({
      name: `${PREFIX}read_cache_bytes`,
      help: 'What the kept answers are charged against READ_CACHE_MB, in bytes.',
      registers,
      collect() {
        this.set(cache.bytes);
      },
    });
    new prom.Gauge({
      name: `${PREFIX}read_cache_entries`,
      help: 'Answers kept in the read cache.',
      registers,
      collect() {
        this.set(cache.size);
      },
    });
  }

  const operationOf = (c: Context): string => {
    for (const r of matchedRoutes(c)) {
      if (r.method === 'ALL') continue;
      return labels.get(`${r.method} ${r.path}`) ?? UNKNOWN;
    }
    return UNKNOWN;
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const start = performance.now();
    inFlight.inc();
    try {
      await next();
    } finally {
      inFlight.dec();
      const status = c.res.status;
      const method = METHODS.has(c.req.method) ? c.req.method : 'other';
      const operation = operationOf(c);
      requests.inc({ operation, method, status: String(status) });
      latency.observe({ operation, method, status_class: `${Math.floor(status / 100)}xx` }, (performance.now() - start) / 1000);
    }
  };

  return {
    middleware,
    text: () => registry.metrics(),
    handler: async () =>
      new Response(await registry.metrics(), { status: 200, headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } }),
  };
}
