/**
 * MLflow's handler-level schemas for the webhook operations (mlflow/server/handlers.py `_create_webhook`,
 * `_list_webhooks`, `_update_webhook`), run by the HTTP handlers before the service.
 */
import type { RequestChecks } from '../registry/req.js';

export const webhookRequestChecks = {
  createWebhook: {
    name: ['string', 'required'],
    url: ['string', 'required'],
    events: ['array', 'required'],
    description: ['string'],
    secret: ['string'],
    status: ['string'],
  },
  listWebhooks: { max_results: ['intlike'], page_token: ['string'] },
  updateWebhook: {
    name: ['string'],
    description: ['string'],
    url: ['string'],
    events: ['array'],
    secret: ['string'],
    status: ['string'],
  },
  getWebhook: {},
  deleteWebhook: {},
  testWebhook: {},
} as const satisfies RequestChecks;

export type WebhookOperationId = keyof typeof webhookRequestChecks;
