/**
 * `mlflow-registry copy`: connects to both registries with the SDK (URLs and credentials as MLflow's
 * client reads them, per side: SOURCE_MLFLOW_TRACKING_* and TARGET_MLFLOW_TRACKING_*, the target
 * falling back to MLFLOW_TRACKING_*), lists the source's models, copies them a few at a time (copier.ts)
 * and reports progress and a summary.
 */
import { MlflowApiError, MlflowRegistryClient } from '@mlflow-registry/client';
import { optionsFromEnv } from '@mlflow-registry/client/node';
import { CliError, positiveInt, UsageError, type Parsed } from '../args.js';
import { createProgress, formatBytes } from '../progress.js';
import { Copier, type ModelOutcome } from './copier.js';

const SIDE_VARS = ['URI', 'USERNAME', 'PASSWORD', 'TOKEN'] as const;

/** A client for one side from `<PREFIX>MLFLOW_TRACKING_*` (and the unprefixed variables when `fallback`). */
function clientFor(side: 'source' | 'target', url: string | undefined, fallback: boolean): MlflowRegistryClient {
  const prefix = side === 'source' ? 'SOURCE_' : 'TARGET_';
  const env: Record<string, string | undefined> = {};
  const own = SIDE_VARS.some((v) => v !== 'URI' && process.env[`${prefix}MLFLOW_TRACKING_${v}`]);
  for (const v of SIDE_VARS) {
    env[`MLFLOW_TRACKING_${v}`] = process.env[`${prefix}MLFLOW_TRACKING_${v}`] ?? (fallback && (v === 'URI' || !own) ? process.env[`MLFLOW_TRACKING_${v}`] : undefined);
  }
  if (url !== undefined) env.MLFLOW_TRACKING_URI = url;
  if (!env.MLFLOW_TRACKING_URI) {
    throw new UsageError(side === 'source' ? 'no source: pass --from <url> (or set SOURCE_MLFLOW_TRACKING_URI)' : 'no target: pass --to <url> (or set TARGET_MLFLOW_TRACKING_URI or MLFLOW_TRACKING_URI)');
  }
  try {
    return new MlflowRegistryClient(optionsFromEnv(env));
  } catch (err) {
    throw new UsageError(`${side}: ${(err as Error).message}`);
  }
}

function describe(o: ModelOutcome): string {
  if (o.model === 'failed') return `model ${o.name}: FAILED (${o.error}); versions ${o.versions.created} created before the failure`;
  const v = o.versions;
  const parts = [`versions ${v.created} created, ${v.updated} updated, ${v.unchanged} unchanged`];
  if (o.aliases) parts.push(`${o.aliases} aliases set`);
  if (o.files) parts.push(`${o.files} files (${formatBytes(o.bytes)})`);
  if (o.references) parts.push(`${o.references} versions kept as references`);
  return `model ${o.name}: ${o.model}; ${parts.join(', ')}`;
}

export async function copy(parsed: Parsed): Promise<number> {
  const { values } = parsed;
  const src = clientFor('source', values.from as string | undefined, false);
  const dst = clientFor('target', values.to as string | undefined, true);
  const concurrency = positiveInt(values, 'concurrency', 4, 64);
  const progress = createProgress();
  let bytes = 0;
  const totals = { models: { created: 0, updated: 0, unchanged: 0, failed: 0 }, versions: { created: 0, updated: 0, unchanged: 0 }, aliases: 0, files: 0, references: 0 };
  let done = 0;
  const status = (total: number) =>
    progress.status(`[${done}/${total} models] ${totals.versions.created} versions created, ${totals.files} files, ${formatBytes(bytes)} copied, ${totals.models.failed} failed`);

  const names: string[] = [];
  // Fails early (and once) when a side cannot be reached or refuses the credentials.
  let side = 'source';
  try {
    for await (const m of src.searchRegisteredModels(typeof values.filter === 'string' ? { filter: values.filter } : {})) names.push(m.name);
    side = 'target';
    await dst.searchRegisteredModelsPage({ maxResults: 1 });
  } catch (err) {
    if (err instanceof MlflowApiError) throw new CliError(`${side} ${side === 'source' ? src.baseUrl : dst.baseUrl}: ${err.errorCode}: ${err.message}`);
    throw err;
  }
  progress.line(`copying ${names.length} models from ${src.baseUrl} to ${dst.baseUrl}`);

  const copier = new Copier(src, dst, {
    artifacts: values.artifacts !== false,
    onBytes: (n) => {
      bytes += n;
      status(names.length);
    },
  });
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const o = await copier.copyModel(names[next++]!);
      done++;
      totals.models[o.model]++;
      totals.versions.created += o.versions.created;
      totals.versions.updated += o.versions.updated;
      totals.versions.unchanged += o.versions.unchanged;
      totals.aliases += o.aliases;
      totals.files += o.files;
      totals.references += o.references;
      progress.line(describe(o));
      status(names.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  progress.done();
  const m = totals.models;
  const v = totals.versions;
  process.stdout.write(
    `done: models ${m.created} created, ${m.updated} updated, ${m.unchanged} unchanged, ${m.failed} failed; ` +
      `versions ${v.created} created, ${v.updated} updated, ${v.unchanged} unchanged; ${totals.aliases} aliases set; ` +
      `${totals.files} files (${formatBytes(bytes)}) copied; ${totals.references} versions kept as references\n`,
  );
  return m.failed > 0 ? 1 : 0;
}
