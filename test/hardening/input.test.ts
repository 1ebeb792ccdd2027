/**
 * Bounded input at the HTTP edge (issue 15): body size limits (413) for JSON operations and artifact
 * uploads, JSON nesting (400), invalid UTF-8 in bodies and query strings (as MLflow reads them), bounds on
 * query strings and lists (400), body deadlines (408), each refusal leaving the database and the artifact
 * tree as they were. In-process server, on PGlite and (TEST_DATABASE_URL) PostgreSQL.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import { parseQueryString, MAX_QUERY_STRING_CHARS } from '../../packages/server/src/http/request.js';
import { pyJson } from '../../packages/server/src/registry/req.js';
import { MB, sendStreamed } from './helpers.js';

const API = '/api/2.0/mlflow';
const ART = '/api/2.0/mlflow-artifacts/artifacts';
const TIMEOUT_MS = 1500;

describe('query-string and serialisation units', () => {
  test('invalid percent-encoded UTF-8 stays percent-encoded (Werkzeug), valid sequences decode', () => {
    expect(parseQueryString('name=%FF%c3%a9x&b=%E2%82&c=%ED%A0%80&d=a+b%2B&e&=v')).toEqual([
      ['name', '%FFéx'],
      ['b', '%E2%82'],
      ['c', '%ED%A0%80'],
      ['d', 'a b+'],
      ['e', ''],
      ['', 'v'],
    ]);
    expect(parseQueryString('x=%F0%9F%98%80%F0%9F%98')).toEqual([['x', '😀%F0%9F%98']]);
  });

  test('a query string above the bound is refused with 400', () => {
    expect(() => parseQueryString('a='.padEnd(MAX_QUERY_STRING_CHARS + 1, 'x'))).toThrow(/Query string too long/);
  });

  test('pyJson writes values nested 100,000 deep without overflowing the stack', () => {
    let v: unknown = 'x';
    for (let i = 0; i < 100_000; i++) v = i % 2 ? [v] : { k: v };
    const out = pyJson(v);
    expect(out.length).toBeGreaterThan(400_000);
    expect(pyJson({ b: [1, 'é', null, { d: true, c: 1.5 }], a: '\u007f' })).toBe('{"a":"\\u007f","b":[1,"\\u00e9",null,{"c":1.5,"d":true}]}');
  });
});

describe.each(backends())('bounded input (%s)', (backend) => {
  let s: TestServer;
  let artifactsDir: string;

  beforeAll(async () => {
    s = await startTestServer(backend, { MAX_REQUEST_BODY_MB: '1', MAX_ARTIFACT_UPLOAD_MB: '1', REQUEST_BODY_TIMEOUT_MS: String(TIMEOUT_MS) });
    artifactsDir = path.join(s.config.dataDir, 'artifacts');
    expect((await s.call('POST', `${API}/registered-models/create`, { name: 'keep', tags: [{ key: 'k', value: 'v' }] })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  /** Every registered model with its tags and description: the database as clients see it. */
  async function registry(): Promise<unknown> {
    const r = await s.call('GET', `${API}/registered-models/search?max_results=1000`);
    expect(r.status).toBe(200);
    return r.body;
  }

  /** Every file under the artifact root, hidden temporary files included. */
  function artifactFiles(): string[] {
    if (!fs.existsSync(artifactsDir)) return [];
    return (fs.readdirSync(artifactsDir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(artifactsDir, f)).isFile()).sort();
  }

  async function unchanged(refusal: () => Promise<void>): Promise<void> {
    const before = await registry();
    const files = artifactFiles();
    await refusal();
    expect(await registry()).toEqual(before);
    expect(artifactFiles()).toEqual(files);
  }

  const jsonHeaders = { 'content-type': 'application/json' };

  /** A GET with a JSON body (MLflow reads one when there is no query string; fetch cannot send it). */
  function getWithBody(p: string, json: unknown) {
    const head = Buffer.from(JSON.stringify(json));
    return sendStreamed(s.url, { method: 'GET', path: p, headers: { 'content-length': head.length }, head, size: 0 });
  }

  describe('413: JSON bodies above MAX_REQUEST_BODY_MB', () => {
    test('a declared Content-Length above the limit is refused before the body is read', () =>
      unchanged(async () => {
        const r = await sendStreamed(s.url, {
          method: 'POST',
          path: `${API}/registered-models/create`,
          headers: { ...jsonHeaders, 'content-length': 64 * MB },
          head: '{"name": "big-declared", "description": "',
          size: 64 * MB,
        });
        expect(r.status).toBe(413);
        expect(r.body).toEqual({ error_code: 'RESOURCE_EXHAUSTED', message: 'Request body exceeds the limit of 1 MB (1048576 bytes).' });
        expect(r.written).toBeLessThan(32 * MB);
      }));

    test('a chunked body is counted as it arrives and refused once past the limit', () =>
      unchanged(async () => {
        const r = await sendStreamed(s.url, {
          method: 'POST',
          path: `${API}/registered-models/create`,
          headers: jsonHeaders,
          head: '{"name": "big-chunked", "description": "',
          size: 64 * MB,
          tail: '"}',
        });
        expect(r.status).toBe(413);
        expect(r.body.error_code).toBe('RESOURCE_EXHAUSTED');
        expect(r.written).toBeLessThan(32 * MB);
      }));

    test('a GET with an oversized JSON body is refused the same way', async () => {
      for (const headers of [{ 'content-length': 8 * MB }, { 'transfer-encoding': 'chunked' }]) {
        const r = await sendStreamed(s.url, { method: 'GET', path: `${API}/registered-models/get`, headers, head: '{"name": "keep", "x": "', size: 8 * MB, tail: '"}' });
        expect(r.status).toBe(413);
        expect(r.body.error_code).toBe('RESOURCE_EXHAUSTED');
      }
    });

    test('a body just under the limit is served, and the connection still serves requests after a refusal', async () => {
      const name = `under-${backend}`;
      const r = await sendStreamed(s.url, {
        method: 'POST',
        path: `${API}/registered-models/create`,
        headers: jsonHeaders,
        head: `{"name": "${name}", "padding": "`,
        size: MB - 100,
        tail: '"}',
      });
      expect(r.status).toBe(200);
      expect((await s.call('GET', `${API}/registered-models/get?name=${name}`)).status).toBe(200);
      expect((await s.call('DELETE', `${API}/registered-models/delete`, { name })).status).toBe(200);
    });
  });

  describe('400: JSON nested too deeply', () => {
    test('100,000 levels in a field is 400 INVALID_PARAMETER_VALUE, not a stack overflow', () =>
      unchanged(async () => {
        const deep = '['.repeat(100_000) + ']'.repeat(100_000);
        const r = await s.call('POST', `${API}/registered-models/create`, `{"name": ${deep}}`);
        expect(r.status).toBe(400);
        expect(r.body.error_code).toBe('INVALID_PARAMETER_VALUE');
        expect(r.body.message).toMatch(/nested too deeply/);
      }));

    test('also in an unknown field, in objects, and inside a double-encoded body', () =>
      unchanged(async () => {
        const objects = '{"a":'.repeat(65) + '1' + '}'.repeat(65);
        for (const body of [
          `{"name": "n-deep", "other": ${objects}}`,
          JSON.stringify(`{"name": ${'['.repeat(1000)}${']'.repeat(1000)}}`),
        ]) {
          const r = await s.call('POST', `${API}/registered-models/create`, body);
          expect(r.status).toBe(400);
          expect(r.body.message).toMatch(/nested too deeply/);
        }
      }));

    test('64 levels are parsed as usual (MLflow message for a list given as a name)', async () => {
      const r = await s.call('POST', `${API}/registered-models/create`, `{"name": ${'['.repeat(63)}${']'.repeat(63)}}`);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/^Invalid value \[\[\[/);
    });

    test('brackets inside strings do not count', async () => {
      const name = `brackets-${backend}-${'['.repeat(100)}`;
      expect((await s.call('POST', `${API}/registered-models/create`, { name })).status).toBe(200);
      expect((await s.call('DELETE', `${API}/registered-models/delete`, { name })).status).toBe(200);
    });
  });

  describe('invalid UTF-8', () => {
    test('a JSON body that is not UTF-8 reads as no body (MLflow: get_json silent), nothing is stored', () =>
      unchanged(async () => {
        for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
          const body = Buffer.concat([Buffer.from('{"name": "bad-'), Buffer.from(bad), Buffer.from('"}')]);
          const r = await s.fetch(`${API}/registered-models/create`, { method: 'POST', headers: jsonHeaders, body });
          expect(r.status).toBe(400);
          expect((await r.json()).message).toMatch(/^Missing value for required parameter 'name'/);
        }
      }));

    test('a valid UTF-8 name (with a BOM-prefixed body) is stored exactly', async () => {
      const name = `ünïcødé-😀-${backend}`;
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ name }))]);
      const r = await s.fetch(`${API}/registered-models/create`, { method: 'POST', headers: jsonHeaders, body });
      expect(r.status).toBe(200);
      const got = await s.call('GET', `${API}/registered-models/get?name=${encodeURIComponent(name)}`);
      expect(got.body.registered_model.name).toBe(name);
      await s.call('DELETE', `${API}/registered-models/delete`, { name });
    });

    test('invalid percent-encoded UTF-8 in a query string stays percent-encoded (Werkzeug), never U+FFFD', async () => {
      const name = `pct-%FF-${backend}`;
      expect((await s.call('POST', `${API}/registered-models/create`, { name })).status).toBe(200);
      const r = await s.call('GET', `${API}/registered-models/get?name=pct-%ff-${backend}`);
      expect(r.status).toBe(200);
      expect(r.body.registered_model.name).toBe(name);
      const miss = await s.call('GET', `${API}/registered-models/get?name=x%C3`);
      expect(miss.status).toBe(404);
      expect(miss.body.message).toBe('Registered Model with name=x%C3 not found');
      await s.call('DELETE', `${API}/registered-models/delete`, { name });
    });
  });

  describe('bounds on lists and query strings', () => {
    test('more than 10,000 tags in one create is 400, nothing stored', () =>
      unchanged(async () => {
        const tags = Array.from({ length: 10_001 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
        const r = await s.call('POST', `${API}/registered-models/create`, { name: 'too-many-tags', tags });
        expect(r.status).toBe(400);
        expect(r.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: "Too many values for parameter 'tags': 10001 given, at most 10000 allowed." });
        const mv = await s.call('POST', `${API}/model-versions/create`, { name: 'keep', source: 's3://b/p', tags });
        expect(mv.status).toBe(400);
      }));

    test('more than 10,000 order_by entries (body or query) and more than 1000 query parameters are 400', async () => {
      const orderBy = Array.from({ length: 10_001 }, () => 'name');
      const body = await getWithBody(`${API}/registered-models/search`, { order_by: orderBy });
      expect(body.status).toBe(400);
      expect(body.body.message).toMatch(/Too many values for parameter 'order_by'/);
      const many = await s.call('GET', `${API}/model-versions/search?${'order_by=name&'.repeat(1001)}`);
      expect(many.status).toBe(400);
      expect(many.body.message).toMatch(/Too many query parameters/);
    });

    test('a filter with many run ids in IN (...) is answered, not a 5xx', async () => {
      const ids = Array.from({ length: 20_000 }, (_, i) => `'${i.toString(16).padStart(32, '0')}'`).join(',');
      const r = await getWithBody(`${API}/model-versions/search`, { filter: `run_id IN (${ids})` });
      expect(r.status).toBeLessThan(500);
    });
  });

  describe('413 and 408 for artifact uploads', () => {
    test('above MAX_ARTIFACT_UPLOAD_MB: by Content-Length up front, or counted while streaming; nothing left behind', () =>
      unchanged(async () => {
        const declared = await sendStreamed(s.url, { method: 'PUT', path: `${ART}/up/declared.bin`, headers: { 'content-length': 8 * MB }, size: 8 * MB });
        expect(declared.status).toBe(413);
        expect(declared.body).toEqual({ error_code: 'RESOURCE_EXHAUSTED', message: 'Artifact upload exceeds the limit of 1 MB (1048576 bytes).' });
        const chunked = await sendStreamed(s.url, { method: 'PUT', path: `${ART}/up/chunked.bin`, size: 8 * MB });
        expect(chunked.status).toBe(413);
        expect(chunked.written).toBeGreaterThan(MB);
      }));

    test('an upload within the limit is stored whole', async () => {
      const r = await sendStreamed(s.url, { method: 'PUT', path: `${ART}/up/ok.bin`, size: MB });
      expect(r.status).toBe(200);
      expect(fs.statSync(path.join(artifactsDir, 'up', 'ok.bin')).size).toBe(MB);
      expect((await s.call('DELETE', `${ART}/up`)).status).toBe(200);
    });

    test('an upload that stalls longer than REQUEST_BODY_TIMEOUT_MS is 408, and its partial file is removed', () =>
      unchanged(async () => {
        const answer = await rawExchange(s.url, `PUT ${ART}/up/stalled.bin HTTP/1.1\r\nHost: ${new URL(s.url).host}\r\nContent-Length: 1000000\r\n\r\n${'a'.repeat(100_000)}`);
        expect(answer.head).toMatch(/^HTTP\/1\.1 408 /);
        expect(JSON.parse(answer.body).error_code).toBe('DEADLINE_EXCEEDED');
        expect(answer.closedByServer).toBe(true);
      }));
  });

  describe('408: bodies that do not arrive within REQUEST_BODY_TIMEOUT_MS', () => {
    test('100 clients trickling a JSON body one byte at a time each get 408; another client is served meanwhile', () =>
      unchanged(async () => {
        const trickles = Array.from({ length: 100 }, (_, i) =>
          trickle(s.url, `POST ${API}/registered-models/create HTTP/1.1\r\nHost: ${new URL(s.url).host}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`, `{"name": "trickle-${i}"`),
        );
        await new Promise((r) => setTimeout(r, 300));
        const served = await s.call('GET', `${API}/registered-models/get?name=keep`);
        expect(served.status).toBe(200);
        const answers = await Promise.all(trickles);
        for (const a of answers) {
          expect(a.head).toMatch(/^HTTP\/1\.1 408 /);
          expect(JSON.parse(a.body)).toMatchObject({ error_code: 'DEADLINE_EXCEEDED' });
          expect(a.closedByServer).toBe(true);
        }
      }), 60_000);

    test('a GET whose JSON body trickles gets 408 too', async () => {
      const a = await trickle(s.url, `GET ${API}/registered-models/get HTTP/1.1\r\nHost: ${new URL(s.url).host}\r\nContent-Length: 100\r\n\r\n`, '{"name": "keep"');
      expect(a.head).toMatch(/^HTTP\/1\.1 408 /);
    });
  });
});

interface RawAnswer {
  head: string;
  body: string;
  /** The server closed the connection (within 10 s of answering). */
  closedByServer: boolean;
}

/**
 * Opens a raw socket, writes the request head, then one byte of `body` every 200 ms (and nothing more
 * once those run out) until the server answers; resolves once the server has closed the connection.
 */
function trickle(base: string, head: string, body: string): Promise<RawAnswer> {
  return rawExchange(base, head, body);
}

function rawExchange(base: string, head: string, trickleBody = ''): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let received = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    let giveUp: NodeJS.Timeout | undefined;
    sock.on('connect', () => {
      sock.write(head);
      timer = setInterval(() => {
        if (i < trickleBody.length && !received) sock.write(trickleBody[i++]!);
      }, 200);
    });
    sock.on('data', (d) => {
      received += d.toString('latin1');
      giveUp ??= setTimeout(() => finish(false), 10_000);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => finish(true));
    const finish = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      sock.destroy();
      const split = received.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no answer: ${JSON.stringify(received)}`));
      const headText = received.slice(0, split);
      let bodyText = received.slice(split + 4);
      if (/transfer-encoding: chunked/i.test(headText)) bodyText = bodyText.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '');
      resolve({ head: headText, body: bodyText, closedByServer: closed });
    };
  });
}
