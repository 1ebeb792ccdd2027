/**
 * The copy of one registered model from a source registry into the target, idempotent and resumable:
 *
 * - the model is created with its description and tags, or (when it exists) brought up to them;
 * - each source version, in version order, is found on the target by the tag COPY_TAG
 *   ("<source model>/<source version>", set in the create request itself, so a version is never created
 *   twice); a missing one gets its artifacts copied first, then is created, so a version that exists on
 *   the target has all its files; an existing one gets its description, tags and stage brought up to date;
 * - then the model's aliases are pointed at the matching target versions.
 *
 * Nothing the target had is deleted: tags, aliases and versions that exist only there stay. A version that
 * fails stops its model (later versions would get other numbers); the next run continues from there.
 */
import { MlflowApiError, where, type MlflowRegistryClient, type ModelVersion, type RegisteredModel } from '@mlflow-registry/client';
import { copyArtifacts, proxyPath } from './artifacts.js';

export const COPY_TAG = 'mlflow_registry.copied_from';

export interface ModelOutcome {
  name: string;
  model: 'created' | 'updated' | 'unchanged' | 'failed';
  versions: { created: number; updated: number; unchanged: number };
  aliases: number;
  files: number;
  bytes: number;
  /** Versions kept as references (their bytes are not behind the source's artifact proxy). */
  references: number;
  error?: string;
}

export interface CopyOptions {
  artifacts: boolean;
  /** Bytes copied, as they flow (progress). */
  onBytes(n: number): void;
}

const same = (a: string | undefined, b: string | undefined) => (a ?? '') === (b ?? '');

/** Sets the tags of `want` that `have` lacks or holds with another value; returns how many. */
async function syncTags(want: Record<string, string>, have: Record<string, string>, set: (key: string, value: string) => Promise<void>): Promise<number> {
  let n = 0;
  for (const [key, value] of Object.entries(want)) {
    if (have[key] !== value) {
      await set(key, value);
      n++;
    }
  }
  return n;
}

async function getModel(client: MlflowRegistryClient, name: string): Promise<RegisteredModel | undefined> {
  try {
    return await client.getRegisteredModel({ name });
  } catch (err) {
    if (MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST')) return undefined;
    throw err;
  }
}

export class Copier {
  constructor(
    private readonly src: MlflowRegistryClient,
    private readonly dst: MlflowRegistryClient,
    private readonly opts: CopyOptions,
  ) {}

  async copyModel(name: string): Promise<ModelOutcome> {
    const out: ModelOutcome = { name, model: 'unchanged', versions: { created: 0, updated: 0, unchanged: 0 }, aliases: 0, files: 0, bytes: 0, references: 0 };
    try {
      const model = await this.src.getRegisteredModel({ name });
      const target = await this.syncModel(model, out);
      const byKey = new Map<string, ModelVersion>();
      for await (const v of this.dst.searchModelVersions({ filter: where.name.eq(name) })) {
        const key = v.tags[COPY_TAG];
        if (key !== undefined) byKey.set(key, v);
      }
      const versions = await this.src.searchModelVersions({ filter: where.name.eq(name) }).toArray();
      versions.sort((a, b) => Number(a.version) - Number(b.version));
      // Source version number → target version number, for the aliases.
      const numbers = new Map<string, string>();
      for (const v of versions) {
        const key = `${name}/${v.version}`;
        let existing = byKey.get(key);
        if (existing && Number(existing.version) < Number(v.version)) {
          // A number filler left by a run that stopped before deleting it (see createVersion).
          await this.dst.deleteModelVersion({ name, version: existing.version });
          existing = undefined;
        }
        const copied = existing ? await this.syncVersion(v, existing, out) : await this.createVersion(v, key, out);
        numbers.set(v.version, copied.version);
      }
      for (const [alias, version] of Object.entries(model.aliases)) {
        const mapped = numbers.get(version);
        if (mapped === undefined || target?.aliases[alias] === mapped) continue;
        await this.dst.setRegisteredModelAlias({ name, alias, version: mapped });
        out.aliases++;
      }
      if (out.model === 'unchanged' && out.aliases + out.versions.created + out.versions.updated > 0) out.model = 'updated';
    } catch (err) {
      out.model = 'failed';
      out.error = err instanceof MlflowApiError ? `${err.errorCode}: ${err.message}` : (err as Error).message;
    }
    return out;
  }

  /** Creates the model on the target, or brings its description and tags up to the source's. Returns the target model as it was before (undefined when created). */
  private async syncModel(model: RegisteredModel, out: ModelOutcome): Promise<RegisteredModel | undefined> {
    const existing = await getModel(this.dst, model.name);
    if (!existing) {
      try {
        await this.dst.createRegisteredModel({ name: model.name, ...(model.description ? { description: model.description } : {}), tags: model.tags });
        out.model = 'created';
        return undefined;
      } catch (err) {
        // Created meanwhile (another copy running): continue as with an existing model.
        if (!MlflowApiError.is(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
        return this.syncModel(model, out);
      }
    }
    let changed = 0;
    if (!same(existing.description, model.description)) {
      await this.dst.updateRegisteredModel({ name: model.name, description: model.description ?? null });
      changed++;
    }
    changed += await syncTags(model.tags, existing.tags, (key, value) => this.dst.setRegisteredModelTag({ name: model.name, key, value }));
    if (changed > 0) out.model = 'updated';
    return existing;
  }

  /** The source's bytes into the target's artifact store (when they are behind its proxy); the target version's source. */
  private async copyBytes(v: ModelVersion, out: ModelOutcome): Promise<string> {
    if (!this.opts.artifacts) return v.source;
    const uri = await this.src.getModelVersionDownloadUri({ name: v.name, version: v.version });
    const path = proxyPath(uri, this.src.baseUrl);
    if (path === undefined) {
      out.references++;
      return v.source;
    }
    const copied = await copyArtifacts(this.src, this.dst, path, this.opts.onBytes);
    out.files += copied.files;
    out.bytes += copied.bytes;
    return `mlflow-artifacts:/${path}`;
  }

  /**
   * Creates the target version. Version numbers are max + 1, deleted ones included, so a number the
   * source skips (a version deleted there) is taken by a version created and deleted at once, as on the
   * source: `models:/<name>/<n>` then names the same version on both (when the model is new on the target;
   * on a model that already had versions the target's next numbers are kept).
   */
  private async createVersion(v: ModelVersion, key: string, out: ModelOutcome): Promise<ModelVersion> {
    const source = await this.copyBytes(v, out);
    let created: ModelVersion;
    for (;;) {
      created = await this.dst.createModelVersion({
        name: v.name,
        source,
        ...(v.runId ? { runId: v.runId } : {}),
        ...(v.runLink ? { runLink: v.runLink } : {}),
        ...(v.description ? { description: v.description } : {}),
        tags: { ...v.tags, [COPY_TAG]: key },
      });
      if (Number(created.version) >= Number(v.version)) break;
      await this.dst.deleteModelVersion({ name: v.name, version: created.version });
    }
    if (v.currentStage !== 'None') {
      created = await this.dst.transitionModelVersionStage({ name: v.name, version: created.version, stage: v.currentStage, archiveExistingVersions: false });
    }
    out.versions.created++;
    return created;
  }

  private async syncVersion(v: ModelVersion, existing: ModelVersion, out: ModelOutcome): Promise<ModelVersion> {
    const ref = { name: v.name, version: existing.version };
    let changed = 0;
    if (!same(existing.description, v.description)) {
      await this.dst.updateModelVersion({ ...ref, description: v.description ?? null });
      changed++;
    }
    changed += await syncTags(v.tags, existing.tags, (key, value) => this.dst.setModelVersionTag({ ...ref, key, value }));
    if (existing.currentStage !== v.currentStage) {
      await this.dst.transitionModelVersionStage({ ...ref, stage: v.currentStage, archiveExistingVersions: false });
      changed++;
    }
    if (changed > 0) out.versions.updated++;
    else out.versions.unchanged++;
    return existing;
  }
}
