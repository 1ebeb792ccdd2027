/**
 * Swagger UI at /docs, with its JavaScript and CSS served by this server from swagger-ui-dist:
 * no CDN, so it works offline and behind firewalls.
 *
 * Every URL the page uses is relative (its assets, the spec, the redirect from /docs/, the spec's own
 * server), so it works under STATIC_PREFIX and behind a reverse proxy that adds a path prefix the
 * server never sees.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Hono } from 'hono';

const require = createRequire(import.meta.url);

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MLflow Model Registry API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-ui-standalone-preset.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
`;

// Kept out of the HTML so that a strict Content-Security-Policy (no inline scripts) can be used.
// The spec's URL is relative to the page (`<prefix>/docs` → `<prefix>/openapi.json`).
const INIT = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  validatorUrl: null,
  tryItOutEnabled: false
});
`;

/**
 * The spec as served: its first server, `/` ("this server"), becomes `.`, which Swagger UI resolves
 * against the spec's own URL. With `/`, "Try it out" would call the host's root and miss the prefix.
 */
export function servedSpec(specJson: string): string {
  const spec = JSON.parse(specJson) as { servers?: { url: string }[] };
  const first = spec.servers?.[0];
  if (!first || first.url !== '/') return specJson;
  first.url = '.';
  return JSON.stringify(spec);
}

export function mountDocs(app: Hono, specJson: string): void {
  const served = servedSpec(specJson);
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  // The assets (2.2 MB) are read from disk per request rather than kept: browsers cache them for a day,
  // and a server that is never asked for /docs should not hold them in memory.
  const files = new Map<string, { path?: string; body?: Uint8Array; type: string }>();
  for (const [name, type] of Object.entries(ASSETS)) files.set(name, { path: path.join(dist, name), type });
  files.set('init.js', { body: new TextEncoder().encode(INIT), type: 'text/javascript; charset=utf-8' });
  const csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";
  const serve = async (name: string) => {
    const f = files.get(name);
    if (!f) return undefined;
    const body = f.body ?? (await fs.promises.readFile(f.path!));
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': f.type, 'cache-control': 'public, max-age=86400' } });
  };

  app.get('/openapi.json', (c) => c.body(served, 200, { 'content-type': 'application/json' }));
  app.get('/docs', (c) => c.html(PAGE, 200, { 'content-security-policy': csp }));
  // Relative, so that it stays under the prefix: `<prefix>/docs/` → `<prefix>/docs`.
  app.get('/docs/', (c) => c.redirect('../docs'));
  app.get('/docs/:file', async (c) => (await serve(c.req.param('file'))) ?? c.notFound());
  app.get('/favicon.ico', async (c) => (await serve('favicon-32x32.png'))!);
}
