/**
 * The HTTP listener: node's server with the limits that belong to the socket layer (request-head size
 * and timeout, checked every second instead of node's default 30 s) and a drain for shutdown. Used by
 * main.ts and by the in-process test server, so tests run with the same settings as production.
 */
import { serve } from '@hono/node-server';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Hono } from 'hono';
import type { LimitsConfig } from '../config.js';

export interface Listener {
  server: HttpServer;
  /** The port actually bound (PORT=0 picks a free one). */
  port: number;
  /**
   * Stops accepting connections, closes idle keep-alive connections at once, and answers every request
   * still in flight (or arriving on an open connection) with `Connection: close`, so that each client
   * finishes its request and then goes elsewhere. Resolves once every connection is closed, or after
   * `timeoutMs` by closing what remains (`cut` counts the requests still unanswered then).
   */
  drain(timeoutMs: number): Promise<{ cut: number }>;
}

export interface ListenOptions {
  port: number;
  host: string;
  limits: LimitsConfig;
}

export function listen(app: Pick<Hono, 'fetch'>, opts: ListenOptions): Promise<Listener> {
  const { limits } = opts;
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  const checkingIntervalMs = Math.min(1000, limits.headersTimeoutMs);
  const server = serve({
    fetch: app.fetch,
    port: opts.port,
    hostname: opts.host,
    serverOptions: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // No whole-request deadline: proxied artifact uploads of many GiB legitimately take minutes. Bodies
      // have their own progress deadline (REQUEST_BODY_TIMEOUT_MS, http/body.ts).
      requestTimeout: 0,
      // How often node looks for request heads past headersTimeout (default 30 s).
      connectionsCheckingInterval: checkingIntervalMs,
      // Longer than the idle timeouts of common load balancers (60 s), so they close first.
      keepAliveTimeout: 65_000,
    },
  }) as HttpServer;

  // node times out a request head only once its first byte arrived (408): a connection that never sends
  // one would be held forever (and node's http sockets do not fire socket.setTimeout). It gets as long,
  // plus node's checking interval so that a head under way still gets its 408 first. After the first
  // request, node's keepAliveTimeout takes over.
  const silentMs = limits.headersTimeoutMs + 2 * checkingIntervalMs;
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (!spoke.has(socket)) socket.destroy();
    }, silentMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  const spoke = new WeakSet<Socket>();

  // Runs before the app's own listener, so the header is set before any response is written.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    spoke.add(req.socket);
    // A body the handler did not read (e.g. sent to /health) is discarded after the answer, for as long as
    // the client keeps sending: a trickled one would hold the connection for ever. It gets the body deadline.
    res.once('finish', () => {
      if (req.complete) return;
      const socket = req.socket;
      const timer = setTimeout(() => socket.destroy(), limits.bodyTimeoutMs);
      timer.unref();
      // Listeners removed as soon as the body ends: a keep-alive socket serves many requests.
      const done = () => {
        clearTimeout(timer);
        req.off('end', done);
        socket.off('close', done);
      };
      req.once('end', done);
      socket.once('close', done);
    });
    if (draining) res.setHeader('connection', 'close');
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // A response whose head went out before the drain kept its connection open: close it now.
      if (draining) server.closeIdleConnections();
    });
  });

  const drain = async (timeoutMs: number): Promise<{ cut: number }> => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    // A request a client wrote before the signal may still sit unread in its socket, which would then
    // count as idle and be reset. One turn of the event loop reads it (the signal and the data arrive in
    // the same poll), so its connection is busy, and answered, when close() drops the idle ones.
    await new Promise((r) => setImmediate(r));
    return new Promise((resolve) => {
      let cut = 0;
      const timer = setTimeout(() => {
        cut = inFlight.size;
        server.closeAllConnections();
      }, timeoutMs);
      timer.unref();
      // close() stops accepting and, since node 19, closes the idle keep-alive connections at once.
      server.close(() => {
        clearTimeout(timer);
        resolve({ cut });
      });
      server.closeIdleConnections();
    });
  };

  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve({ server, port: (server.address() as AddressInfo).port, drain });
    });
  });
}
