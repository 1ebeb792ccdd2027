/**
 * Reading a request body within a size limit and a deadline, before anything is buffered beyond it.
 *
 * - A declared Content-Length above the limit is refused at once (413), without reading a byte; a body
 *   without one (chunked) is counted as it arrives and refused as soon as it passes the limit.
 * - JSON bodies (`readBody`) must arrive whole within the timeout; uploads (`bodyStream`) must make
 *   progress: no gap between chunks longer than the timeout (time spent waiting on our own consumer,
 *   e.g. a slow store, does not count). Either way: 408.
 * - A client that goes away mid-body surfaces as one MlflowError (CANCELLED, 499), so the edge logs it
 *   as an ordinary request line, not as an unhandled error.
 * - After a refusal the rest of the body is not buffered; the connection is closed shortly after the
 *   answer is out (a lingering close, so that the client reads the answer rather than a connection
 *   reset): an oversized or trickled body never keeps the server busy or holds memory.
 */
import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { MlflowError } from '../errors.js';

export interface BodyLimits {
  /** Largest body in bytes; 0 = no limit. */
  maxBytes: number;
  /** Milliseconds: the whole body (`readBody`) or each chunk (`bodyStream`) must arrive within it. */
  timeoutMs: number;
}

/**
 * How long, after the answer to a refused body is out, the connection stays open (not read: the client's
 * writes stall on a full TCP window) before it is closed. Closing at once would make a client that is still
 * sending see a connection reset instead of the answer (the kernel drops unread data on a reset).
 */
const LINGER_MS = 1000;

const MB = 1024 * 1024;

function sizeText(bytes: number): string {
  return bytes >= MB && bytes % MB === 0 ? `${bytes / MB} MB` : bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${bytes} bytes`;
}

export function bodyTooLarge(what: string, maxBytes: number): MlflowError {
  return MlflowError.tooLarge(`${what} exceeds the limit of ${sizeText(maxBytes)} (${maxBytes} bytes).`);
}

export function bodyTimeout(what: string, timeoutMs: number, idle: boolean): MlflowError {
  return MlflowError.timeout(
    idle
      ? `${what} made no progress for ${timeoutMs} ms; the request was abandoned.`
      : `${what} was not received within ${timeoutMs} ms; the request was abandoned.`,
  );
}

export function bodyAborted(what: string): MlflowError {
  return MlflowError.cancelled(`${what} was not completed: the client closed the connection.`);
}

interface NodeEnv {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

function nodeEnv(c: Context): NodeEnv {
  return (c.env as NodeEnv | undefined) ?? {};
}

/** The declared Content-Length, or undefined (absent, or not a plain decimal number). */
export function declaredLength(c: Context): number | undefined {
  const v = nodeEnv(c).incoming?.headers['content-length'] ?? c.req.header('content-length');
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

/** Whether the request carries a body at all (Content-Length above 0, or a Transfer-Encoding). */
export function hasBody(c: Context): boolean {
  const incoming = nodeEnv(c).incoming;
  const headers = incoming ? incoming.headers : { 'content-length': c.req.header('content-length'), 'transfer-encoding': c.req.header('transfer-encoding') };
  const length = headers['content-length'];
  return !((length === undefined || /^\s*0+\s*$/.test(length)) && headers['transfer-encoding'] === undefined);
}

/**
 * After a refusal: stop reading the body, and make the close that follows the answer a lingering one.
 * Node answers a request whose body was not read with `Connection: close` and then `destroySoon()`s the
 * socket right after the answer; with unread bytes in the receive queue that sends a reset, and a client
 * still busy sending loses the answer (the kernel drops it). Instead the socket is half-closed (the answer
 * and a FIN go out) and destroyed LINGER_MS later, or as soon as the client closes.
 */
function discardRest({ incoming }: NodeEnv): void {
  if (!incoming || incoming.readableEnded || incoming.destroyed) return;
  incoming.pause();
  incoming.on('error', () => undefined);
  const socket = incoming.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket || socket.destroyed) return;
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/** Refuses a declared Content-Length above the limit, before anything is read. */
function checkDeclared(c: Context, what: string, maxBytes: number): void {
  const length = declaredLength(c);
  if (maxBytes > 0 && length !== undefined && length > maxBytes) {
    discardRest(nodeEnv(c));
    throw bodyTooLarge(what, maxBytes);
  }
}

/**
 * The whole body, which must be at most `maxBytes` and arrive within `timeoutMs`. Empty when there is
 * none or it was already read.
 */
export async function readBody(c: Context, what: string, limits: BodyLimits): Promise<Uint8Array> {
  checkDeclared(c, what, limits.maxBytes);
  const env = nodeEnv(c);
  const incoming = env.incoming;
  if (!incoming) return readWebBody(c.req.raw.body, what, limits);
  if (incoming.readableEnded || incoming.readableDidRead) return new Uint8Array(0);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: MlflowError | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (err) {
        chunks.length = 0;
        if (err.status !== 499) discardRest(env);
        reject(err);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const timer = setTimeout(() => finish(bodyTimeout(what, limits.timeoutMs, false)), limits.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (limits.maxBytes > 0 && size > limits.maxBytes) return finish(bodyTooLarge(what, limits.maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = () => finish(bodyAborted(what));
    const onClose = () => {
      if (!incoming.complete) finish(bodyAborted(what));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** `readBody` over a web stream (the app served without Node's HTTP server, e.g. `app.request()`). */
async function readWebBody(body: ReadableStream<Uint8Array> | null, what: string, limits: BodyLimits): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTimeout(what, limits.timeoutMs, false)), limits.timeoutMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (limits.maxBytes > 0 && size > limits.maxBytes) throw bodyTooLarge(what, limits.maxBytes);
      chunks.push(value);
    }
  } catch (err) {
    void reader.cancel().catch(() => undefined);
    if (err instanceof MlflowError) throw err;
    throw bodyAborted(what);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The body as a stream for a consumer that writes it somewhere (an artifact upload): at most `maxBytes`
 * (0 = any size), and no wait for the client longer than `timeoutMs` between chunks. The stream errors
 * with the MlflowError to answer (413, 408, or 499 when the client went away); null without a body.
 */
export function bodyStream(c: Context, what: string, limits: BodyLimits): ReadableStream<Uint8Array> | null {
  checkDeclared(c, what, limits.maxBytes);
  const env = nodeEnv(c);
  const incoming = env.incoming;
  if (!incoming) return webBodyStream(c.req.raw.body, what, limits);
  if (!hasBody(c) || incoming.readableEnded) return null;
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stopTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const startTimer = () => {
    stopTimer();
    timer = setTimeout(() => fail(bodyTimeout(what, limits.timeoutMs, true)), limits.timeoutMs);
  };
  const detach = () => {
    settled = true;
    stopTimer();
    incoming.off('data', onData);
    incoming.off('end', onEnd);
    incoming.off('error', onError);
    incoming.off('close', onClose);
  };
  const fail = (err: MlflowError) => {
    if (settled) return;
    detach();
    if (err.status !== 499) discardRest(env);
    controller.error(err);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (limits.maxBytes > 0 && size > limits.maxBytes) return fail(bodyTooLarge(what, limits.maxBytes));
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) {
      // Our consumer is behind: stop reading (and stop the clock, the client is not the one waiting).
      incoming.pause();
      stopTimer();
    } else {
      startTimer();
    }
  };
  const onEnd = () => {
    if (settled) return;
    detach();
    controller.close();
  };
  const onError = () => fail(bodyAborted(what));
  const onClose = () => {
    if (!incoming.complete) fail(bodyAborted(what));
  };
  return new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        controller = ctrl;
        incoming.on('data', onData);
        incoming.on('end', onEnd);
        incoming.on('error', onError);
        incoming.on('close', onClose);
        incoming.pause();
      },
      pull() {
        if (settled) return;
        startTimer();
        incoming.resume();
      },
      cancel() {
        if (settled) return;
        detach();
        discardRest(env);
      },
    },
    { highWaterMark: MB, size: (chunk) => chunk.byteLength },
  );
}

/** `bodyStream` over a web stream (no Node request). */
function webBodyStream(body: ReadableStream<Uint8Array> | null, what: string, limits: BodyLimits): ReadableStream<Uint8Array> | null {
  if (!body) return null;
  const reader = body.getReader();
  let size = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(bodyTimeout(what, limits.timeoutMs, true)), limits.timeoutMs);
      });
      try {
        const { done, value } = await Promise.race([reader.read(), idle]);
        if (done) return ctrl.close();
        size += value.byteLength;
        if (limits.maxBytes > 0 && size > limits.maxBytes) throw bodyTooLarge(what, limits.maxBytes);
        ctrl.enqueue(value);
      } catch (err) {
        void reader.cancel().catch(() => undefined);
        ctrl.error(err instanceof MlflowError ? err : bodyAborted(what));
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
