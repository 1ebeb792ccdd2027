/**
 * Helpers of the hardening suites: raw HTTP requests whose bodies are generated as they are written
 * (never held whole in the test's memory), that stop writing as soon as the server answers.
 */
import http from 'node:http';

export const MB = 1024 * 1024;

export interface SendOptions {
  method: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** First bytes of the body (e.g. the start of a JSON document). */
  head?: Buffer | string;
  /** Bytes of filler written after `head`, in chunks of `chunkSize` (default 64 KiB) of `fill`. */
  size: number;
  fill?: number;
  chunkSize?: number;
  /** Written after the filler when the server has not answered by then. */
  tail?: Buffer | string;
}

export interface SendResult {
  status: number;
  body: any;
  /** Body bytes written before the server answered (or all of them). */
  written: number;
}

/**
 * Streams a body of `size` bytes with chunked writes (or under the given Content-Length) and resolves
 * with the server's answer. Writing stops as soon as the answer arrives; the socket is then destroyed.
 */
export function sendStreamed(base: string, opts: SendOptions): Promise<SendResult> {
  const u = new URL(base);
  const chunkSize = opts.chunkSize ?? 64 * 1024;
  const chunk = Buffer.alloc(chunkSize, opts.fill ?? 0x61);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request({ host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers: opts.headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, written });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const write = (buf: Buffer | string): boolean => {
      written += Buffer.byteLength(buf);
      return req.write(buf);
    };
    if (opts.head !== undefined) write(opts.head);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < opts.size) {
        const n = Math.min(chunkSize, opts.size - sent);
        sent += n;
        if (!write(n === chunkSize ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (answered) return;
      if (opts.tail !== undefined) write(opts.tail);
      req.end();
    };
    pump();
  });
}

/** Samples a value every `everyMs` until stopped; returns the maximum seen. */
export function sampleMax(read: () => number, everyMs = 20): { stop(): number } {
  let max = read();
  const timer = setInterval(() => {
    try {
      max = Math.max(max, read());
    } catch {
      /* process gone */
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        max = Math.max(max, read());
      } catch {
        /* process gone */
      }
      return max;
    },
  };
}
