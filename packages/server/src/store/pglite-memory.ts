/**
 * Keeping the embedded engine small. PGlite is PostgreSQL compiled to WebAssembly: its memory only grows, so
 * whatever it touches once stays in the server's RSS for good.
 * - PostgreSQL's shared buffers are sized for a small server: the default 128 MB is what the WASM heap grows
 *   to as the registry is read (measured: steady RSS under load ~390 → ~230 MB, CPU per request unchanged).
 * - A new data directory is initialised (initdb, which touches ~600 MB) in a short-lived child process, so the
 *   server itself never carries that peak.
 * - PostgreSQL's WebAssembly is compiled by V8's baseline compiler only (Liftoff; `--liftoff-only`) unless
 *   EMBEDDED_WASM_OPTIMIZE=true: by default V8 also recompiles the hot functions with its optimising compiler, whose
 *   memory stays in the process. Measured (docs/benchmarks-round-two.md, 5 minutes of mixed load): RSS 252 → 171 MB,
 *   start-up and initdb faster, but about a third more CPU per request (PostgreSQL's code runs slower).
 * - New data directories are copies of a template (pglite-template.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

/** V8's flag for the embedded engine's WebAssembly (see above). */
const BASELINE_WASM_ONLY = '--liftoff-only';

/**
 * From now on, WebAssembly this process compiles gets V8's baseline code only. Call before the engine is
 * created. (V8 flags are process-wide: WebAssembly compiled later, such as undici's HTTP parser of webhook
 * delivery, gets it too; it is small and not on a hot path.)
 */
export function compileWasmBaselineOnly(): void {
  v8.setFlagsFromString(BASELINE_WASM_ONLY);
}

/**
 * Appended to PGlite's own start parameters (durability settings are left as PGlite sets them). 8 MB of shared
 * buffers instead of 128, and 1 MB of WAL buffers instead of 4: the data files stay in the OS page cache, and every
 * buffer page once touched stays in the process. Measured under 5 minutes of the benchmark's mixed load
 * (docs/benchmarks-round-two.md): steady RSS at most 161 MB with 16 MB / 4 MB, 150 MB with 8 MB / 1 MB, the same CPU
 * per request.
 */
export const PGLITE_MEMORY_SETTINGS = ['-c', 'shared_buffers=8MB', '-c', 'wal_buffers=1MB'];

/** Start parameters for `new PGlite(…, { startParams })`: PGlite's defaults, then the memory settings. */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, ...PGLITE_MEMORY_SETTINGS];
}

/** True when `dataDir` holds no database yet (PostgreSQL writes PG_VERSION first thing in initdb). */
export function needsInitdb(dataDir: string): boolean {
  return !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
}

/**
 * Creates the database in `dataDir` in a child process (the same Node binary and PGlite module), which exits
 * when done and takes initdb's memory with it. Rejects with the child's output when it fails.
 */
export async function initdbInChild(dataDir: string, startParams: readonly string[], baselineOnly = true): Promise<void> {
  const script = `
    const { PGlite } = await import(process.env.PGLITE_URL);
    const db = new PGlite(process.env.PGLITE_DATA_DIR, { startParams: JSON.parse(process.env.PGLITE_START_PARAMS) });
    await db.waitReady;
    await db.close();`;
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [...(baselineOnly ? [BASELINE_WASM_ONLY] : []), '--input-type=module', '-e', script],
      {
        env: {
          ...process.env,
          PGLITE_URL: import.meta.resolve('@electric-sql/pglite'),
          PGLITE_DATA_DIR: dataDir,
          PGLITE_START_PARAMS: JSON.stringify(startParams),
        },
        maxBuffer: 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`initialising the embedded database in ${dataDir} failed: ${err.message}\n${stderr}${stdout}`.trim()));
        else resolve();
      },
    );
  });
}
