/**
 * Structured JSON logs, one object per line on stdout. Small on purpose: no dependency, no buffering.
 *
 * Lines written for a request carry its `request_id` (http/request-id.ts): the HTTP layer logs through
 * `withFields(log, { request_id })`, and a server-side cause a service attaches to the error it throws
 * (MlflowError.report) is logged where the error is rendered, with the id. Not through AsyncLocalStorage:
 * on Node 20 and 22 it hooks every promise of the process, which cost get-registered-model 12 % and
 * get-model-version 26 % of their throughput (docs/benchmarks-round-two.md).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (l) => RANK[l] >= min,
  };
}

/** A logger whose lines also carry `fields` (after `msg`, before the line's own fields). */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return {
    debug: (m, f) => log.debug(m, { ...fields, ...f }),
    info: (m, f) => log.info(m, { ...fields, ...f }),
    warn: (m, f) => log.warn(m, { ...fields, ...f }),
    error: (m, f) => log.error(m, { ...fields, ...f }),
    enabled: (l) => log.enabled(l),
  };
}
