/**
 * `mlflow-registry serve` (and `mlflow-registry` alone, `pnpm start`, the container's entry point): read
 * configuration once, build the server, listen, and on SIGTERM/SIGINT drain (stop accepting, close idle
 * keep-alive connections, answer in-flight requests with `Connection: close`, bounded by
 * SHUTDOWN_TIMEOUT_MS), then close the database and exit 0. Any start-up failure ends the process with
 * one clear message.
 */
import { ConfigError, loadConfig, metadataStoreName, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { createServer, VERSION } from '../server.js';
import { listen, type Listener } from '../http/listen.js';

function fail(message: string): never {
  process.stderr.write(`mlflow-registry: ${message}\n`);
  process.exit(1);
}

export async function serve(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`);
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Until the server listens, a signal just ends the start (node as a container's PID 1 would otherwise
  // ignore SIGTERM until a handler exists). Migrations run in transactions, so stopping mid-way is safe.
  let shutdown: ((signal: string) => Promise<void>) | undefined;
  const onSignal = (signal: string) => {
    if (shutdown) return void shutdown(signal);
    log.info('stopped during start-up', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    server = await createServer(config, log);
  } catch (err) {
    fail(`cannot start: ${(err as Error).message}`);
  }

  let listener: Listener;
  try {
    listener = await listen(server.app, { port: config.port, host: config.host, limits: config.limits });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = `${config.host}:${config.port}`;
    if (e.code === 'EADDRINUSE') fail(`cannot listen on ${where}: the port is already in use (set PORT)`);
    if (e.code === 'EACCES') fail(`cannot listen on ${where}: permission denied (set PORT)`);
    fail(`cannot listen on ${where}: ${e.message}`);
  }
  log.info('listening', {
    url: `http://${config.host}:${listener.port}`,
    version: VERSION,
    database: metadataStoreName(config),
    dataDir: config.dataDir,
  });

  let stopping = false;
  shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const { cut } = await listener.drain(config.shutdownTimeoutMs);
    if (cut > 0) log.warn('in-flight requests did not finish in time; their connections were closed', { requests: cut });
    try {
      await server.close();
    } catch (err) {
      log.error('error while closing', { error: (err as Error).message });
      process.exit(1);
    }
    process.exit(0);
  };
}
