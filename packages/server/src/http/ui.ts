/**
 * MLflow's web UI, served from a build of it (MLFLOW_UI_DIR, or the one found by ui-discovery.ts) the way
 * mlflow/server/__init__.py serves it: `/` answers the build's index.html (never cached: it names the
 * hashed bundles), `/static-files/<path>` the build's files (hashed names, cached for 28 days as MLflow's
 * `max_age=2419200`). index.html refers to its assets relatively, so the UI works under STATIC_PREFIX.
 *
 * A static path reads only a regular file inside the build directory: empty, `.` and `..` segments,
 * backslashes and NUL are refused, and the real path (symlinks resolved) must stay inside the build.
 * Anything else is the app's JSON 404, as Flask's `send_from_directory` answers 404.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import { routesOutsideOperations } from '../gen/operations.gen.js';

/** The routes as the contract declares them (x-mlflow-routes-outside-operations), with their permissions. */
function declared(path: string): string {
  const route = routesOutsideOperations.find((r) => r.method === 'GET' && r.path === path);
  if (!route) throw new Error(`the contract declares no route GET ${path}`);
  return route.honoPath;
}
export const UI_INDEX_PATH = declared('/');
/** `/static-files/{artifact_path}`: the parameter takes a path of any depth. */
export const UI_STATIC_PATH = declared('/static-files/{artifact_path}');
const STATIC_FILES = '/static-files/';

/** What browsers need for the build's file types (Python's mimetypes, with Flask's charset on text). */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm',
};

const CACHE_ASSETS = 'public, max-age=2419200';

/** Whether `dir` holds a UI build (its index.html). */
export function isUiBuild(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'index.html')).isFile();
  } catch {
    return false;
  }
}

/**
 * The file of the build that `rel` (the decoded path after `/static-files/`) names, or undefined. `root`
 * is the build directory's real path.
 */
export async function resolveStatic(root: string, rel: string): Promise<{ file: string; stat: fs.Stats } | undefined> {
  if (rel.includes('\\') || rel.includes('\0')) return undefined;
  const segments = rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const candidate = path.join(root, ...segments);
  try {
    const real = await fs.promises.realpath(candidate);
    if (!real.startsWith(root + path.sep)) return undefined;
    const stat = await fs.promises.stat(real);
    return stat.isFile() ? { file: real, stat } : undefined;
  } catch {
    return undefined;
  }
}

/** A file's answer: streamed, with its type, validators, and a 304 when the browser's copy is current. */
function fileResponse(c: Context, file: string, stat: fs.Stats, cacheControl: string): Response {
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = new Headers({
    'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': cacheControl,
    etag,
    'last-modified': stat.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  });
  if (c.req.header('if-none-match') === etag) return new Response(null, { status: 304, headers });
  headers.set('content-length', String(stat.size));
  if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers });
  const body = Readable.toWeb(fs.createReadStream(file)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

/**
 * Mounts the UI of the build in `dir` (checked by the caller with isUiBuild). Without a build the routes
 * still exist, as the contract declares them with their permissions, and answer the JSON 404.
 */
export function mountUi(app: Hono, dir: string | undefined): void {
  if (dir === undefined) {
    app.get(UI_INDEX_PATH, (c) => c.notFound());
    app.get(UI_STATIC_PATH, (c) => c.notFound());
    return;
  }
  const root = fs.realpathSync(dir);
  const index = path.join(root, 'index.html');
  app.get(UI_INDEX_PATH, async (c) => {
    // `<prefix>` without its slash (STATIC_PREFIX routes it as `/`): the page's relative asset URLs would
    // resolve outside the prefix, so go to `<prefix>/` first, as Flask does. Relative, for outer proxies.
    const sent = new URL(c.req.url).pathname;
    if (!sent.endsWith('/')) return c.redirect(`${sent.slice(sent.lastIndexOf('/') + 1)}/`, 308);
    return fileResponse(c, index, await fs.promises.stat(index), 'no-cache');
  });
  app.get(UI_STATIC_PATH, async (c) => {
    // c.req.path is the routed path (after STATIC_PREFIX), percent-decoded once.
    const found = await resolveStatic(root, c.req.path.slice(STATIC_FILES.length));
    return found ? fileResponse(c, found.file, found.stat, CACHE_ASSETS) : c.notFound();
  });
}
