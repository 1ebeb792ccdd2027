/** Thin bindings of the audit-history operations (our extension, /api/2.0/mlflow-ts/history/…). */
import type { HistoryService } from '../../events/history.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';

export type HistoryOperationId = Extract<
  OperationId,
  'getRegisteredModelHistory' | 'getModelVersionHistory' | 'getAliasHistory' | 'listRegistryEvents' | 'listWebhookDeliveries'
>;

export function historyHandlers(svc: HistoryService): Record<HistoryOperationId, Handler> {
  return {
    getRegisteredModelHistory: (r) => svc.registeredModel(r),
    getModelVersionHistory: (r) => svc.modelVersion(r),
    getAliasHistory: (r) => svc.alias(r),
    listRegistryEvents: (r) => svc.events(r),
    listWebhookDeliveries: (r) => svc.deliveries(r),
  };
}
