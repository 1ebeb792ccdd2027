/** Thin bindings of MLflow's six webhook operations to the webhook service, in the request's workspace. */
import type { WebhookService } from '../../webhooks/service.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import { workspaceOf } from '../workspace.js';

export type WebhookOperationId = Extract<OperationId, 'createWebhook' | 'listWebhooks' | 'getWebhook' | 'updateWebhook' | 'deleteWebhook' | 'testWebhook'>;

export function webhookHandlers(svc: WebhookService): Record<WebhookOperationId, Handler> {
  return {
    createWebhook: (r, c) => svc.create(r, workspaceOf(c)),
    listWebhooks: (r, c) => svc.list(r, workspaceOf(c)),
    getWebhook: (r, c) => svc.get(r, workspaceOf(c)),
    updateWebhook: (r, c) => svc.update(r, workspaceOf(c)),
    deleteWebhook: (r, c) => svc.delete(r, workspaceOf(c)),
    testWebhook: (r, c) => svc.test(r, workspaceOf(c)),
  };
}
