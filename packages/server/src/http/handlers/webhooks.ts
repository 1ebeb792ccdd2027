/**
 * Thin bindings of MLflow's six webhook operations to the webhook service, in the request's workspace:
 * MLflow's handler-level checks (webhooks/request-checks.ts), then the service with the typed input.
 */
import type { WebhookService } from '../../webhooks/service.js';
import type { Handler } from '../app.js';
import { checkSchema } from '../../registry/req.js';
import { webhookRequestChecks, type WebhookOperationId } from '../../webhooks/request-checks.js';
import { workspaceOf } from '../workspace.js';

export type { WebhookOperationId };

export function webhookHandlers(svc: WebhookService): { [K in WebhookOperationId]: Handler<K> } {
  const checked = <K extends WebhookOperationId>(op: K, h: Handler<K>): Handler<K> => (r, c) => {
    checkSchema(r, webhookRequestChecks[op]);
    return h(r, c);
  };
  return {
    createWebhook: checked('createWebhook', (r, c) => svc.create(r.fields, r, workspaceOf(c))),
    listWebhooks: checked('listWebhooks', (r, c) => svc.list(r.fields, workspaceOf(c))),
    getWebhook: checked('getWebhook', (r, c) => svc.get(r.fields, workspaceOf(c))),
    updateWebhook: checked('updateWebhook', (r, c) => svc.update(r.fields, r, workspaceOf(c))),
    deleteWebhook: checked('deleteWebhook', (r, c) => svc.delete(r.fields, workspaceOf(c))),
    testWebhook: checked('testWebhook', (r, c) => svc.test(r.fields, r, workspaceOf(c))),
  };
}
