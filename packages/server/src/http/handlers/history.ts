/** Thin bindings of the audit-history operations (our extension, /api/2.0/mlflow-ts/history/…), in the request's workspace. */
import type { HistoryService } from '../../events/history.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import { workspaceOf } from '../workspace.js';

export type HistoryOperationId = Extract<
  OperationId,
  'getRegisteredModelHistory' | 'getModelVersionHistory' | 'getAliasHistory' | 'listRegistryEvents' | 'listWebhookDeliveries'
>;

export function historyHandlers(svc: HistoryService): { [K in HistoryOperationId]: Handler<K> } {
  return {
    getRegisteredModelHistory: (r, c) => svc.in(workspaceOf(c)).registeredModel(r),
    getModelVersionHistory: (r, c) => svc.in(workspaceOf(c)).modelVersion(r),
    getAliasHistory: (r, c) => svc.in(workspaceOf(c)).alias(r),
    listRegistryEvents: (r, c) => svc.in(workspaceOf(c)).events(r),
    listWebhookDeliveries: (r, c) => svc.in(workspaceOf(c)).deliveries(r),
  };
}
