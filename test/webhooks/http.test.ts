/**
 * The outbound POST itself (webhooks/http.ts, on undici) against real local servers: pooled
 * connections, a bounded response body, one deadline for the whole attempt, shutdown aborts,
 * connect-time SSRF refusals on the pooled agent, and no proxy taken from the environment.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgents, postJson, TimeoutError } from '../../packages/server/src/webhooks/http.js';

interface Local {
  url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests received so far. */
  requests: number;
  sockets: Set<Socket>;
  server: http.Server;
}

const servers: Local[] = [];

async function serve(handler: http.RequestListener): Promise<Local> {
  const server = http.createServer((req, res) => {
    local.requests++;
    handler(req, res);
  });
  const local: Local = { url: '', connections: 0, requests: 0, sockets: new Set(), server };
  server.on('connection', (s: Socket) => {
    local.connections++;
    local.sockets.add(s);
    s.on('close', () => local.sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  local.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(local);
  return local;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('webhook POST through undici', () => {
  it('sends the body and headers, and reuses one pooled connection until the agents are destroyed', async () => {
    const seen: { body: string; headers: http.IncomingHttpHeaders }[] = [];
    const s = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ body, headers: req.headers });
        res.writeHead(201, { 'retry-after': '7' }).end('ok');
      });
    });
    const agents = createAgents(5000);
    try {
      for (let i = 0; i < 6; i++) {
        const res = await postJson(`${s.url}/hook?x=${i}`, `{"n": ${i}, "é": 1}`, { 'Content-Type': 'application/json' }, {
          timeoutMs: 5000,
          allowPrivateTargets: true,
          agents,
        });
        expect(res).toMatchObject({ status: 201, body: 'ok' });
        expect(res.headers['retry-after']).toBe('7');
      }
      // Back to back, undici may open a second connection (the first is released a moment after the
      // response ends); beyond that every request reuses one.
      expect(s.connections).toBeLessThanOrEqual(2);
      expect(seen[5]!.body).toBe('{"n": 5, "é": 1}');
      expect(seen[5]!.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength('{"n": 5, "é": 1}')) });
    } finally {
      await agents.destroy();
    }
    await until(() => s.sockets.size === 0);
  });

  it('keeps the first 64 KiB of an endless response body and stops reading it', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'a');
      // Writes for as long as the client reads (stops once the connection is closed).
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const res = await postJson(`${s.url}/`, '{}', {}, { timeoutMs: 10_000, allowPrivateTargets: true });
    expect(res.status).toBe(200);
    expect(res.body).toBe('a'.repeat(64 * 1024));
    await until(() => s.sockets.size === 0);
  });

  it('applies one deadline to the whole attempt: a body trickling forever times out', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      // A byte every 20 ms: never idle long enough for a per-read timeout, never finished either.
      const t = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(t));
    });
    const err = await postJson(`${s.url}/`, '{}', {}, { timeoutMs: 400, allowPrivateTargets: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('Read timed out. (timeout=0.4)');
    await until(() => s.sockets.size === 0);
  });

  it('times out waiting for the response headers, on a pooled agent too', async () => {
    const s = await serve(() => {}); // never answers
    const agents = createAgents(400);
    try {
      const err = await postJson(`${s.url}/`, '{}', {}, { timeoutMs: 400, allowPrivateTargets: true, agents }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toBe('Read timed out. (timeout=0.4)');
      expect(s.requests).toBe(1);
    } finally {
      await agents.destroy();
    }
  });

  it("aborts on the caller's signal (shutdown) with the worker's message", async () => {
    const s = await serve(() => {});
    const abort = new AbortController();
    const pending = postJson(`${s.url}/`, '{}', {}, { timeoutMs: 30_000, allowPrivateTargets: true, signal: abort.signal }).catch((e: unknown) => e);
    await until(() => s.requests === 1);
    abort.abort();
    const err = (await pending) as Error;
    expect(err).not.toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('aborted: the server is shutting down');
    await until(() => s.sockets.size === 0);
  });

  it('refuses loopback names at connect time on the pooled agent: nothing reaches the server', async () => {
    const s = await serve((_req, res) => res.end('reached'));
    const port = new URL(s.url).port;
    const agents = createAgents(5000);
    try {
      for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]']) {
        const err = await postJson(`http://${host}:${port}/`, '{}', {}, { timeoutMs: 5000, allowPrivateTargets: false, agents }).catch((e: unknown) => e);
        expect((err as Error).name).toBe('SSRFProtectionError');
        expect((err as Error).message).toMatch(/^Webhook connection blocked: (127\.0\.0\.1|::1|::ffff:7f00:1) is not a public IP address\./);
      }
      // The same agents still serve an allowed target through their other pool.
      expect((await postJson(`${s.url}/`, '{}', {}, { timeoutMs: 5000, allowPrivateTargets: true, agents })).body).toBe('reached');
      expect(s.connections).toBe(1);
    } finally {
      await agents.destroy();
    }
  });

  it('reports a refused connection with its code (retried by the worker)', async () => {
    const s = await serve(() => {});
    const url = s.url;
    await new Promise((r) => s.server.close(r));
    servers.splice(servers.indexOf(s), 1);
    const err = (await postJson(`${url}/`, '{}', {}, { timeoutMs: 5000, allowPrivateTargets: true }).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('takes no proxy from the environment', async () => {
    const proxy = await serve((_req, res) => res.end('proxied'));
    const target = await serve((_req, res) => res.end('direct'));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    process.env.HTTP_PROXY = process.env.http_proxy = proxy.url;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const agents = createAgents(5000);
    try {
      expect((await postJson(`${target.url}/`, '{}', {}, { timeoutMs: 5000, allowPrivateTargets: true, agents })).body).toBe('direct');
      expect((await postJson(`${target.url}/`, '{}', {}, { timeoutMs: 5000, allowPrivateTargets: true })).body).toBe('direct');
      expect(proxy.connections).toBe(0);
    } finally {
      await agents.destroy();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
