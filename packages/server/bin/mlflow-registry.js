#!/usr/bin/env node
/**
 * The `mlflow-registry` command. In a checkout (src/main.ts present and tsx installed) it runs the
 * TypeScript sources through tsx, with the SDK (@mlflow-registry/client) resolved to its sources too,
 * so nothing needs building first; where only the transpiled server exists (the container image,
 * `pnpm build`), it runs dist/main.js with plain node. Either way main.ts parses the arguments.
 */
import fs from 'node:fs';
import { register } from 'node:module';

const src = new URL('../src/main.ts', import.meta.url);
const dist = new URL('../dist/main.js', import.meta.url);

async function fromSources() {
  if (!fs.existsSync(src)) return false;
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    return false; // a production install: tsx is a development tool
  }
  tsx.register();
  register('./sdk-source-hook.js', import.meta.url);
  await import(src.href);
  return true;
}

if (!(await fromSources())) {
  if (!fs.existsSync(dist)) {
    process.stderr.write('mlflow-registry: neither the sources (with tsx) nor dist/main.js were found; run `pnpm build`\n');
    process.exit(1);
  }
  await import(dist.href);
}
