/** Thin bindings of MLflow's six webhook operations to the webhook service. */
import type { WebhookService } from '../../webhooks/service.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';

export type WebhookOperationId = Extract<OperationId, 'createWebhook' | 'listWebhooks' | 'getWebhook' | 'updateWebhook' | 'deleteWebhook' | 'testWebhook'>;

export function webhookHandlers(svc: WebhookService): Record<WebhookOperationId, Handler> {
  return {
    createWebhook: (r) => svc.create(r),
    listWebhooks: (r) => svc.list(r),
    getWebhook: (r) => svc.get(r),
    updateWebhook: (r) => svc.update(r),
    deleteWebhook: (r) => svc.delete(r),
    testWebhook: (r) => svc.test(r),
  };
}
