/**
 * Structured JSON logs, one object per line on stdout. Small on purpose: no dependency, no buffering.
 *
 * Every line written while a request is handled carries its `request_id` (http/request-id.ts): the id
 * travels with the request's asynchronous work through AsyncLocalStorage, so services and stores log
 * as before and need no request object. Work a request leaves behind after its answer (a socket or a
 * timer it created, which node keeps in the request's context) no longer carries the id.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

/** What a log line learns about the request being handled. */
export interface RequestLogContext {
  readonly requestId: string;
  /** Set once the request is answered and logged: later work started by it logs without the id. */
  done: boolean;
}

const requestContext = new AsyncLocalStorage<RequestLogContext>();

/** Runs `fn` (the rest of the request's handling) with `ctx`; every log line written inside carries its id. */
export function runWithLogContext<T>(ctx: RequestLogContext, fn: () => T): T {
  return requestContext.run(ctx, fn);
}

/** The id of the request being handled here, if any. */
export function currentRequestId(): string | undefined {
  const ctx = requestContext.getStore();
  return ctx && !ctx.done ? ctx.requestId : undefined;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const requestId = currentRequestId();
    const line = requestId === undefined ? { time: new Date().toISOString(), level: lvl, msg, ...fields } : { time: new Date().toISOString(), level: lvl, msg, request_id: requestId, ...fields };
    write(JSON.stringify(line) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (l) => RANK[l] >= min,
  };
}
