/**
 * Process entry: read configuration once, build the server, listen, and on SIGTERM/SIGINT stop
 * accepting connections, let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT_MS), then
 * close the database. Any start-up failure ends the process with one clear message.
 */
import { serve } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { createServer, VERSION } from './server.js';

function fail(message: string): never {
  process.stderr.write(`mlflow-registry: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`);
    throw err;
  }
  const log = createLogger(config.logLevel);
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    server = await createServer(config, log);
  } catch (err) {
    fail(`cannot start: ${(err as Error).message}`);
  }

  const http = serve({ fetch: server.app.fetch, port: config.port, hostname: config.host }) as HttpServer;
  // Longer than the idle timeouts of common load balancers (60 s), so they close first.
  http.keepAliveTimeout = 65_000;
  // No whole-request deadline: proxied artifact uploads of many GiB legitimately take minutes.
  // Slow-loris protection stays with headersTimeout (60 s by default).
  http.requestTimeout = 0;
  http.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') fail(`cannot listen on ${config.host}:${config.port}: the port is already in use (set PORT)`);
    if (err.code === 'EACCES') fail(`cannot listen on ${config.host}:${config.port}: permission denied (set PORT)`);
    fail(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
  });
  http.on('listening', () => {
    const addr = http.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    log.info('listening', {
      url: `http://${config.host}:${port}`,
      version: VERSION,
      database: config.databaseUrl ? 'postgres' : 'pglite',
      dataDir: config.dataDir,
    });
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const timer = setTimeout(() => {
      log.warn('in-flight requests did not finish in time; closing connections');
      http.closeAllConnections();
    }, config.shutdownTimeoutMs);
    timer.unref();
    http.close(() => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    http.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
