/**
 * Registry entities in MLflow's wire format (the spec's schemas), and the rules for which fields
 * are emitted (mlflow/entities/model_registry/*.to_proto): unset and empty fields are omitted,
 * `current_stage` and `status` always present, versions as strings.
 */
import type {
  ModelVersion,
  RegisteredModel,
  RegisteredModelAlias,
  RegisteredModelTag,
  ModelVersionTag,
} from '../gen/api/types.gen.js';
import type { ModelVersionRow, RegisteredModelRow, TagPairs } from '../store/rows.js';

export type { ModelVersion, RegisteredModel, RegisteredModelAlias, RegisteredModelTag, ModelVersionTag };
// Re-exported for the registry's importers; the store owns them.
export type { ModelVersionRow, RegisteredModelRow };

/** A response body already serialised (the HTTP layer sends it as is). */
export class RenderedJson {
  constructor(readonly text: string) {}
}

function tagList(pairs: TagPairs | null): { key: string; value?: string }[] | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  return pairs.map(([key, value]) => (value === null ? { key } : { key, value }));
}

export function toModelVersion(row: ModelVersionRow, withAliases: boolean): ModelVersion {
  const mv: ModelVersion = {
    name: row.name,
    version: String(row.version),
    creation_timestamp: row.creation_time as number,
    current_stage: row.current_stage ?? 'None',
    source: row.source as string,
    status: (row.status ?? 'READY') as ModelVersion['status'],
  };
  // Insertion order mirrors MLflow's output order (clients do not depend on it).
  const out: Record<string, unknown> = { name: mv.name, version: mv.version, creation_timestamp: mv.creation_timestamp };
  if (row.creation_time === null) delete out.creation_timestamp;
  if (row.last_updated_time !== null) out.last_updated_timestamp = row.last_updated_time;
  if (row.description !== null) out.description = row.description;
  out.current_stage = mv.current_stage;
  if (row.source !== null) out.source = row.source;
  if (row.run_id !== null) out.run_id = row.run_id;
  if (row.run_link !== null) out.run_link = row.run_link;
  out.status = mv.status;
  if (row.status_message) out.status_message = row.status_message;
  const tags = tagList(row.tags);
  if (tags) out.tags = tags;
  if (withAliases && row.aliases && row.aliases.length > 0) out.aliases = row.aliases;
  return out as ModelVersion;
}

/**
 * A registered model in wire format, as JSON text. The store's `latest_versions` text is spliced in
 * unparsed (it is most of a model's bytes); RegisteredModel.latest_versions never carry aliases
 * (MLflow fills them nowhere there).
 */
export function registeredModelJson(row: RegisteredModelRow): string {
  const out: Record<string, unknown> = { name: row.name };
  if (row.creation_time !== null) out.creation_timestamp = row.creation_time;
  if (row.last_updated_time) out.last_updated_timestamp = row.last_updated_time;
  if (row.description) out.description = row.description;
  const tags = tagList(row.tags);
  if (tags) out.tags = tags;
  if (row.aliases && row.aliases.length > 0) out.aliases = row.aliases.map(([alias, version]) => ({ alias, version: String(version) }));
  const base = JSON.stringify(out as RegisteredModel);
  return row.latest ? `${base.slice(0, -1)},"latest_versions":${row.latest}}` : base;
}
