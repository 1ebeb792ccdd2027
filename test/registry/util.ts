/**
 * Helpers for the black-box registry suites: real HTTP requests against a server started by the
 * harness, with MLflow's request conventions (GET parameters in the query string, repeated keys for
 * lists; JSON bodies otherwise).
 */
import http from 'node:http';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, type Backend, type TestServer } from '../helpers/server.js';
import { recordResponse } from '../helpers/spec-responses.js';

export const API = '/api/2.0/mlflow';

export interface Res {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

let counter = 0;
/** A name no other test uses (the database is shared by the tests of a file). */
export function uniq(prefix = 'm'): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;

export function qs(query: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) p.append(k, String(item));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class Client {
  readonly #server: () => TestServer;

  /** `server` may be a function, for a client created before its server starts (see `useServer`). */
  constructor(
    server: TestServer | (() => TestServer),
    readonly prefix = API,
  ) {
    this.#server = typeof server === 'function' ? server : () => server;
  }

  /** The server this client talks to. */
  get s(): TestServer {
    return this.#server();
  }

  async raw(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Res> {
    const res = await this.s.fetch(path, { method, body: init.body, headers: init.headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers, text };
  }

  /** A request through node:http, which (unlike fetch) can send a body with a GET. */
  rawHttp(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Res> {
    const url = new URL(path, this.s.url);
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          recordResponse({ method, path, status: res.statusCode ?? 0, contentType: h.get('content-type') ?? '', text });
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: h, text });
        });
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  get(path: string, query?: Query): Promise<Res> {
    return this.raw('GET', this.prefix + path + qs(query));
  }
  post(path: string, body: unknown = {}): Promise<Res> {
    return this.raw('POST', this.prefix + path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }
  patch(path: string, body: unknown = {}): Promise<Res> {
    return this.raw('PATCH', this.prefix + path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }
  /** DELETE with a JSON body, as the Python client sends it. */
  del(path: string, body: unknown = {}): Promise<Res> {
    return this.raw('DELETE', this.prefix + path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  // ---- shortcuts -------------------------------------------------------------------------------

  async createModel(name: string, extra: Record<string, unknown> = {}): Promise<any> {
    const r = await this.post('/registered-models/create', { name, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.registered_model;
  }
  async createVersion(name: string, extra: Record<string, unknown> = {}): Promise<any> {
    const r = await this.post('/model-versions/create', { name, source: 's3://bucket/model', ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.model_version;
  }
  async getModel(name: string): Promise<any> {
    const r = await this.get('/registered-models/get', { name });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.registered_model;
  }
  async getVersion(name: string, version: string | number): Promise<any> {
    const r = await this.get('/model-versions/get', { name, version: String(version) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.model_version;
  }
  async transition(name: string, version: string | number, stage: string, archive?: boolean): Promise<any> {
    const body: Record<string, unknown> = { name, version: String(version), stage };
    if (archive !== undefined) body.archive_existing_versions = archive;
    const r = await this.post('/model-versions/transition-stage', body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.model_version;
  }
  async setAlias(name: string, alias: string, version: string | number): Promise<void> {
    const r = await this.post('/registered-models/alias', { name, alias, version: String(version) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  /** Model versions matching a filter, all pages. */
  async searchVersions(query: Query): Promise<any[]> {
    const r = await this.get('/model-versions/search', query);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.model_versions ?? [];
  }
  async searchModels(query: Query): Promise<any> {
    const r = await this.get('/registered-models/search', query);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  }
}

/**
 * The per-suite server: registers a `beforeAll` that starts a server on `backend` (with extra
 * environment `env`) and an `afterAll` that closes it, and returns a client for it. The client (and
 * its server, `client.s`) can be used in hooks and tests, not while the suite is being collected.
 */
export function useServer(backend: Backend, env: Record<string, string> = {}): Client {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(backend, env);
  });
  afterAll(() => server?.close());
  return new Client(() => {
    if (!server) throw new Error('useServer: the server is not running (it starts in beforeAll)');
    return server;
  });
}

/** Asserts an MLflow error response: status, error_code and (optionally) the exact message. */
export function expectError(res: Res, status: number, code: string, message?: string | RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(res.body.error_code, JSON.stringify(res.body)).toBe(code);
  if (typeof message === 'string') expect(res.body.message).toBe(message);
  else if (message) expect(res.body.message).toMatch(message);
}

export const missing = (param: string) =>
  `Missing value for required parameter '${param}'. See the API docs for more information about request parameters.`;

export const invalidValue = (param: string, json: string, type: string) =>
  `Invalid value ${json} for parameter '${param}' supplied:  Hint: Value was of type '${type}'. See the API docs for more information about request parameters.`;

export const relativeSourceMessage = (source: string) =>
  `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, ` +
  'or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.';

export const localSourceMessage = (source: string, id = 'run_id') =>
  `Invalid model version source: '${source}'. To use a local path as a model version source, the ${id} request parameter has to be ` +
  `specified and the local path has to be contained within the artifact directory of the run specified by the ${id}.`;

export const mustIdentify = (source: string, id: 'run_id' | 'model_id') =>
  `Invalid model version source: '${source}'. The ${id} request parameter must identify the resource that contains the source.`;
