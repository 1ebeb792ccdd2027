/**
 * MLflow's handler-level schemas for the registry operations (mlflow/server/handlers.py: the
 * `_validate_param_against_schema` schema of each handler), in MLflow's field order. The HTTP handlers
 * (http/handlers/registry.ts) run them before the service, as MLflow's handlers do before the store.
 */
import { pyInt, type Check, type RequestChecks } from './req.js';

export const RM_MAX_RESULTS = 1000;
export const MV_MAX_RESULTS = 200_000;

/**
 * The handler's range lambda `_assert_less_than_or_equal(int(x), max)`. Where int() raises (e.g.
 * "1e1", which ParseDict accepts) MLflow answers an HTML 500; we fail the check (400).
 */
const atMost = (max: number) => (x: unknown): boolean => {
  const n = pyInt(x);
  return n !== undefined && n <= max;
};

const S = {
  name: ['string', 'required'],
  required: ['string', 'required'],
  string: ['string'],
} satisfies Record<string, readonly Check[]>;

const search = (max: number) =>
  ({
    filter: S.string,
    max_results: ['intlike', atMost(max)],
    order_by: ['array', 'itemString'],
    page_token: S.string,
  }) as const;

export const registryRequestChecks = {
  createRegisteredModel: { name: S.name, tags: ['array'], description: S.string },
  getRegisteredModel: { name: S.name },
  updateRegisteredModel: { name: S.name, description: S.string },
  renameRegisteredModel: { name: S.name, new_name: S.required },
  deleteRegisteredModel: { name: S.name },
  searchRegisteredModels: search(RM_MAX_RESULTS),
  getLatestVersions: { name: S.name, stages: ['array', 'itemString'] },
  getLatestVersionsGet: { name: S.name, stages: ['array', 'itemString'] },
  setRegisteredModelTag: { name: S.name, key: S.required, value: S.string },
  deleteRegisteredModelTag: { name: S.name, key: S.required },
  setRegisteredModelAlias: { name: S.name, alias: S.required, version: S.required },
  deleteRegisteredModelAlias: { name: S.name, alias: S.required },
  getModelVersionByAlias: { name: S.name, alias: S.required },
  createModelVersion: {
    name: S.name,
    source: S.required,
    run_id: S.string,
    tags: ['array'],
    run_link: S.string,
    description: S.string,
    model_id: S.string,
  },
  updateModelVersion: { name: S.name, version: S.required, description: S.string },
  transitionModelVersionStage: { name: S.name, version: S.required, stage: S.required, archive_existing_versions: ['bool'] },
  deleteModelVersion: { name: S.name, version: S.required },
  getModelVersion: { name: S.name, version: S.required },
  searchModelVersions: search(MV_MAX_RESULTS),
  // MLflow's handler has no schema here: the store validates name and version.
  getModelVersionDownloadUri: {},
  setModelVersionTag: { name: S.name, version: S.required, key: S.required, value: S.string },
  deleteModelVersionTag: { name: S.name, version: S.required, key: S.required },
} as const satisfies RequestChecks;

export type RegistryOperationId = keyof typeof registryRequestChecks;
