/**
 * @mlflow-registry/client: a typed TypeScript client for the MLflow Model Registry REST API.
 *
 * @example
 * ```ts
 * import { MlflowRegistryClient, MlflowApiError } from '@mlflow-registry/client';
 * const client = new MlflowRegistryClient({ baseUrl: 'http://localhost:8000' });
 * ```
 *
 * @module @mlflow-registry/client
 */
export {
  MlflowRegistryClient,
  type MlflowRegistryClientOptions,
  type AuthOptions,
  type CallOptions,
  type Tags,
  type VersionNumber,
  type ModelVersionRef,
  type ResolvedModelUri,
  type SearchParams,
  type SearchPageParams,
  type ArtifactBody,
  type Timestamp,
  type HistoryParams,
  type HistoryPageParams,
} from './client.js';
export {
  MlflowApiError,
  isKnownErrorCode,
  type MlflowApiErrorInit,
  type ErrorCode,
  type MlflowErrorCode,
  type ClientErrorCode,
  type UnknownErrorCode,
} from './errors.js';
export { PageIterator } from './pagination.js';
export { and, where, quoteValue, escapeLike, type FilterClause, type StringField, type ListField, type NumericField } from './filter.js';
export { parseModelUri, type ParsedModelUri } from './uri.js';
export type { FetchLike, RetryOptions } from './transport.js';
export type {
  RegisteredModel,
  ModelVersion,
  ModelVersionStage,
  ModelVersionStageInput,
  ModelVersionStatus,
  Webhook,
  WebhookEvent,
  WebhookEventName,
  WebhookEntity,
  WebhookAction,
  WebhookStatus,
  WebhookTestResult,
  FileInfo,
  Page,
  RegistryEvent,
  AliasPointInTime,
  AliasHistoryPage,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookDeliveryStatus,
  DirectUpload,
  DirectUploadCredential,
  DirectUploadPart,
  DirectDownload,
  Workspace,
  WorkspaceDeletionMode,
  ServerInfo,
  TraceArchivalConfig,
} from './entities.js';
