/**
 * @internal The operations the facade calls, bound to their method and URL, sent with the generated
 * fetch client. This replaces the generated sdk.gen.ts functions in the facade because those import
 * every zod schema (and zod) eagerly: here the schemas are loaded with a dynamic `import()` only
 * when response validation is on, so that zod is an optional peer dependency and is not part of the
 * core bundle. The request/response types are still the generated ones (types.gen.ts).
 */
import type { Client } from './gen/client/index.js';
import type * as wire from './gen/types.gen.js';
import type * as schemas from './gen/zod.gen.js';

type Schemas = typeof schemas;
/** The name of a generated zod schema (`zGetRegisteredModelResponse2`, …). */
export type SchemaName = { [K in keyof Schemas]: Schemas[K] extends { parseAsync(d: unknown): Promise<unknown> } ? K : never }[keyof Schemas];

let loading: Promise<Schemas> | undefined;

/** Loads the generated zod schemas (and zod) on first use. */
export function loadSchemas(): Promise<Schemas> {
  loading ??= import('./gen/zod.gen.js').catch((err: unknown) => {
    loading = undefined;
    throw new Error(
      'validateResponses: true needs the optional peer dependency zod (^4): install it next to @mlflow-registry/client, e.g. `npm install zod`',
      { cause: err },
    );
  });
  return loading;
}

/** A response validator for the named schema (zod loaded lazily). */
export function validatorFor(name: SchemaName): (data: unknown) => Promise<unknown> {
  return async (data) => (await loadSchemas())[name].parseAsync(data);
}

/** What every call carries (set by the facade). */
export interface OpOptions {
  client: Client;
  fetch: typeof fetch;
  headers: Record<string, string> | undefined;
  /** Validate the response against the operation's zod schema. */
  validate: boolean;
}

/** What an operation resolves to (fetch-client "fields" style, not throwing). */
export type OpResult<T> = ({ data: T; error: undefined } | { data: undefined; error: unknown }) & {
  request: Request;
  response: Response | undefined;
};

type Shape = { url: string; body?: unknown; query?: Record<string, unknown>; path?: Record<string, unknown> };
type Input<D extends Shape> = Omit<D, 'url' | 'headers'>;
type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

function op<D extends Shape, R extends Record<number, unknown>>(method: Method, url: D['url'], schema: SchemaName) {
  return (o: OpOptions & Input<D>): Promise<OpResult<R[keyof R]>> => {
    const { validate, client, headers, ...rest } = o;
    return client[method]<R, unknown, false>({
      ...rest,
      url,
      parseAs: 'json',
      ...(validate ? { responseValidator: validatorFor(schema) } : {}),
      headers: { 'Content-Type': 'application/json', ...headers },
    }) as Promise<OpResult<R[keyof R]>>;
  };
}

const P = '/api/2.0/mlflow';
const W = '/api/3.0/mlflow/workspaces';
const H = '/api/2.0/mlflow-ts/history';

export const ops = {
  createRegisteredModel: op<wire.CreateRegisteredModelData, wire.CreateRegisteredModelResponses>('post', `${P}/registered-models/create`, 'zCreateRegisteredModelResponse2'),
  getRegisteredModel: op<wire.GetRegisteredModelData, wire.GetRegisteredModelResponses>('get', `${P}/registered-models/get`, 'zGetRegisteredModelResponse2'),
  renameRegisteredModel: op<wire.RenameRegisteredModelData, wire.RenameRegisteredModelResponses>('post', `${P}/registered-models/rename`, 'zRenameRegisteredModelResponse2'),
  updateRegisteredModel: op<wire.UpdateRegisteredModelData, wire.UpdateRegisteredModelResponses>('patch', `${P}/registered-models/update`, 'zUpdateRegisteredModelResponse2'),
  deleteRegisteredModel: op<wire.DeleteRegisteredModelData, wire.DeleteRegisteredModelResponses>('delete', `${P}/registered-models/delete`, 'zDeleteRegisteredModelResponse2'),
  searchRegisteredModels: op<wire.SearchRegisteredModelsData, wire.SearchRegisteredModelsResponses>('get', `${P}/registered-models/search`, 'zSearchRegisteredModelsResponse2'),
  getLatestVersions: op<wire.GetLatestVersionsData, wire.GetLatestVersionsResponses>('post', `${P}/registered-models/get-latest-versions`, 'zGetLatestVersionsResponse2'),
  setRegisteredModelTag: op<wire.SetRegisteredModelTagData, wire.SetRegisteredModelTagResponses>('post', `${P}/registered-models/set-tag`, 'zSetRegisteredModelTagResponse2'),
  deleteRegisteredModelTag: op<wire.DeleteRegisteredModelTagData, wire.DeleteRegisteredModelTagResponses>('delete', `${P}/registered-models/delete-tag`, 'zDeleteRegisteredModelTagResponse2'),
  setRegisteredModelAlias: op<wire.SetRegisteredModelAliasData, wire.SetRegisteredModelAliasResponses>('post', `${P}/registered-models/alias`, 'zSetRegisteredModelAliasResponse2'),
  deleteRegisteredModelAlias: op<wire.DeleteRegisteredModelAliasData, wire.DeleteRegisteredModelAliasResponses>('delete', `${P}/registered-models/alias`, 'zDeleteRegisteredModelAliasResponse2'),
  getModelVersionByAlias: op<wire.GetModelVersionByAliasData, wire.GetModelVersionByAliasResponses>('get', `${P}/registered-models/alias`, 'zGetModelVersionByAliasResponse2'),
  createModelVersion: op<wire.CreateModelVersionData, wire.CreateModelVersionResponses>('post', `${P}/model-versions/create`, 'zCreateModelVersionResponse2'),
  getModelVersion: op<wire.GetModelVersionData, wire.GetModelVersionResponses>('get', `${P}/model-versions/get`, 'zGetModelVersionResponse2'),
  updateModelVersion: op<wire.UpdateModelVersionData, wire.UpdateModelVersionResponses>('patch', `${P}/model-versions/update`, 'zUpdateModelVersionResponse2'),
  transitionModelVersionStage: op<wire.TransitionModelVersionStageData, wire.TransitionModelVersionStageResponses>('post', `${P}/model-versions/transition-stage`, 'zTransitionModelVersionStageResponse2'),
  deleteModelVersion: op<wire.DeleteModelVersionData, wire.DeleteModelVersionResponses>('delete', `${P}/model-versions/delete`, 'zDeleteModelVersionResponse2'),
  searchModelVersions: op<wire.SearchModelVersionsData, wire.SearchModelVersionsResponses>('get', `${P}/model-versions/search`, 'zSearchModelVersionsResponse2'),
  getModelVersionDownloadUri: op<wire.GetModelVersionDownloadUriData, wire.GetModelVersionDownloadUriResponses>('get', `${P}/model-versions/get-download-uri`, 'zGetModelVersionDownloadUriResponse2'),
  setModelVersionTag: op<wire.SetModelVersionTagData, wire.SetModelVersionTagResponses>('post', `${P}/model-versions/set-tag`, 'zSetModelVersionTagResponse2'),
  deleteModelVersionTag: op<wire.DeleteModelVersionTagData, wire.DeleteModelVersionTagResponses>('delete', `${P}/model-versions/delete-tag`, 'zDeleteModelVersionTagResponse2'),
  listArtifacts: op<wire.ListArtifactsData, wire.ListArtifactsResponses>('get', '/api/2.0/mlflow-artifacts/artifacts', 'zListArtifactsResponse2'),
  deleteArtifact: op<wire.DeleteArtifactData, wire.DeleteArtifactResponses>('delete', '/api/2.0/mlflow-artifacts/artifacts/{artifact_path}', 'zDeleteArtifactResponse2'),
  createWebhook: op<wire.CreateWebhookData, wire.CreateWebhookResponses>('post', `${P}/webhooks`, 'zCreateWebhookResponse2'),
  listWebhooks: op<wire.ListWebhooksData, wire.ListWebhooksResponses>('get', `${P}/webhooks`, 'zListWebhooksResponse2'),
  getWebhook: op<wire.GetWebhookData, wire.GetWebhookResponses>('get', `${P}/webhooks/{webhook_id}`, 'zGetWebhookResponse2'),
  updateWebhook: op<wire.UpdateWebhookData, wire.UpdateWebhookResponses>('patch', `${P}/webhooks/{webhook_id}`, 'zUpdateWebhookResponse2'),
  deleteWebhook: op<wire.DeleteWebhookData, wire.DeleteWebhookResponses>('delete', `${P}/webhooks/{webhook_id}`, 'zDeleteWebhookResponse2'),
  testWebhook: op<wire.TestWebhookData, wire.TestWebhookResponses>('post', `${P}/webhooks/{webhook_id}/test`, 'zTestWebhookResponse2'),
  getRegisteredModelHistory: op<wire.GetRegisteredModelHistoryData, wire.GetRegisteredModelHistoryResponses>('get', `${H}/registered-models`, 'zGetRegisteredModelHistoryResponse'),
  getModelVersionHistory: op<wire.GetModelVersionHistoryData, wire.GetModelVersionHistoryResponses>('get', `${H}/model-versions`, 'zGetModelVersionHistoryResponse'),
  getAliasHistory: op<wire.GetAliasHistoryData, wire.GetAliasHistoryResponses>('get', `${H}/aliases`, 'zGetAliasHistoryResponse'),
  listRegistryEvents: op<wire.ListRegistryEventsData, wire.ListRegistryEventsResponses>('get', `${H}/events`, 'zListRegistryEventsResponse'),
  listWebhookDeliveries: op<wire.ListWebhookDeliveriesData, wire.ListWebhookDeliveriesResponses>('get', `${H}/webhooks/{webhook_id}/deliveries`, 'zListWebhookDeliveriesResponse2'),
  createDirectUpload: op<wire.CreateDirectUploadData, wire.CreateDirectUploadResponses>('post', '/api/2.0/mlflow-ts/artifacts/direct-upload/create', 'zCreateDirectUploadResponse2'),
  completeDirectUpload: op<wire.CompleteDirectUploadData, wire.CompleteDirectUploadResponses>('post', '/api/2.0/mlflow-ts/artifacts/direct-upload/complete', 'zCompleteDirectUploadResponse2'),
  abortDirectUpload: op<wire.AbortDirectUploadData, wire.AbortDirectUploadResponses>('post', '/api/2.0/mlflow-ts/artifacts/direct-upload/abort', 'zAbortDirectUploadResponse2'),
  getServerInfo: op<wire.GetServerInfoData, wire.GetServerInfoResponses>('get', '/api/3.0/mlflow/server-info', 'zGetServerInfoResponse'),
  listWorkspaces: op<wire.ListWorkspacesData, wire.ListWorkspacesResponses>('get', W, 'zListWorkspacesResponse2'),
  createWorkspace: op<wire.CreateWorkspaceData, wire.CreateWorkspaceResponses>('post', W, 'zCreateWorkspaceResponse'),
  getWorkspace: op<wire.GetWorkspaceData, wire.GetWorkspaceResponses>('get', `${W}/{workspace_name}`, 'zGetWorkspaceResponse'),
  updateWorkspace: op<wire.UpdateWorkspaceData, wire.UpdateWorkspaceResponses>('patch', `${W}/{workspace_name}`, 'zUpdateWorkspaceResponse'),
  deleteWorkspace: op<wire.DeleteWorkspaceData, wire.DeleteWorkspaceResponses>('delete', `${W}/{workspace_name}`, 'zDeleteWorkspaceResponse'),
  getDirectDownloadUrl: op<wire.GetDirectDownloadUrlData, wire.GetDirectDownloadUrlResponses>('get', '/api/2.0/mlflow-ts/artifacts/direct-download', 'zGetDirectDownloadUrlResponse'),
};
