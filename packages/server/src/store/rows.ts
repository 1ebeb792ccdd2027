/**
 * Rows as the registry store returns them: what its queries select, before the registry renders
 * them in MLflow's wire format (registry/entities.ts).
 */

/** [key, value] pairs as the store returns them (one JSON aggregate per entity). */
export type TagPairs = [string, string | null][];

export interface ModelVersionRow {
  name: string;
  version: number;
  creation_time: number | null;
  last_updated_time: number | null;
  description: string | null;
  current_stage: string | null;
  source: string | null;
  storage_location?: string | null;
  run_id: string | null;
  run_link: string | null;
  status: string | null;
  status_message: string | null;
  tags: TagPairs | null;
  aliases?: string[] | null;
}

export interface RegisteredModelRow {
  name: string;
  creation_time: number | null;
  last_updated_time: number | null;
  description: string | null;
  tags: TagPairs | null;
  aliases: [string, number][] | null;
  /** JSON text of `latest_versions` in wire format, rendered by the store; null when there is none. */
  latest: string | null;
}
