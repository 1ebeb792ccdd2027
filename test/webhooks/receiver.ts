/**
 * A webhook receiver for the tests: a real node:http server that records every request, checks the
 * shape MLflow's deliveries have (headers, Python json.dumps body, isoformat timestamp) and verifies
 * X-MLflow-Signature with the secret it is told. Its answers are programmable per request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Received {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** `workspace` only from a server with workspaces on (MLflow adds it last then). */
  json: { entity: string; action: string; timestamp: string; data: Record<string, unknown>; workspace?: string };
  deliveryId: string;
  /** Undefined when the receiver has no secret to check with. */
  signatureOk: boolean | undefined;
  /** Problems with the request's shape (empty when it looks exactly like MLflow's). */
  problems: string[];
}

export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function sign(secret: string, id: string, ts: string, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

/** Python json.dumps(json.loads(body)) for the bodies we get (no floats), to check the serialisation. */
export function pyDumps(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyDumps).join(', ')}]`;
  return `{${Object.entries(v as object).map(([k, x]) => `${pyDumps(k)}: ${pyDumps(x)}`).join(', ')}}`;
}

export class Receiver {
  readonly requests: Received[] = [];
  secret: string | undefined;
  answer: (r: Received, n: number) => Answer = () => ({ status: 200, body: 'ok' });
  private readonly hanging = new Set<http.ServerResponse>();
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = http.createServer((req, res) => self!.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    self = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const problems: string[] = [];
      let json: Received['json'] = { entity: '', action: '', timestamp: '', data: {} };
      try {
        json = JSON.parse(body);
      } catch {
        problems.push('body is not JSON');
      }
      if (req.method !== 'POST') problems.push(`method ${req.method}`);
      if (req.headers['content-type'] !== 'application/json') problems.push(`content-type ${req.headers['content-type']}`);
      if (/[^\x20-\x7e]/.test(body)) problems.push('body is not ASCII (ensure_ascii)');
      if (pyDumps(json) !== body) problems.push('body is not Python json.dumps output');
      if (!/^entity,action,timestamp,data(,workspace)?$/.test(Object.keys(json).join(','))) problems.push(`body keys ${Object.keys(json).join(',')}`);
      if (!ISO_RE.test(json.timestamp)) problems.push(`timestamp ${json.timestamp}`);
      const id = String(req.headers['x-mlflow-delivery-id'] ?? '');
      if (!UUID_RE.test(id)) problems.push(`delivery id ${id}`);
      const ts = String(req.headers['x-mlflow-timestamp'] ?? '');
      if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - Date.now() / 1000) > 300) problems.push(`timestamp header ${ts}`);
      let signatureOk: boolean | undefined;
      const sig = req.headers['x-mlflow-signature'];
      if (this.secret !== undefined) {
        const expected = Buffer.from(sign(this.secret, id, ts, body));
        const got = Buffer.from(String(sig ?? ''));
        signatureOk = got.length === expected.length && timingSafeEqual(got, expected);
      } else if (sig !== undefined) {
        problems.push('signature without a secret');
      }
      const rec: Received = { at: Date.now(), path: req.url ?? '', headers: req.headers, body, json, deliveryId: id, signatureOk, problems };
      this.requests.push(rec);
      const a = this.answer(rec, this.requests.length);
      for (const w of this.waiters.splice(0)) w();
      if (a === 'hang') {
        this.hanging.add(res);
        return;
      }
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  }

  /** Waits until `pred` holds for the requests received so far. */
  async waitFor(pred: (reqs: Received[]) => boolean, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.requests)) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests)`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.requests;
  }

  reset(): void {
    this.requests.length = 0;
    this.answer = () => ({ status: 200, body: 'ok' });
    this.secret = undefined;
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
