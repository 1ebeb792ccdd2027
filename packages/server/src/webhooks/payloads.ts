/**
 * What a webhook receiver gets, byte for byte as MLflow sends it (mlflow/webhooks/delivery.py
 * `_send_webhook_request`, mlflow/webhooks/types.py): the body `{"entity", "action", "timestamp",
 * "data"}` serialised by Python's json.dumps, and the headers Content-Type, X-MLflow-Delivery-Id,
 * X-MLflow-Timestamp and, when the webhook has a secret, X-MLflow-Signature
 * `v1,<base64 HMAC-SHA256(secret, "<delivery id>.<timestamp>.<body>")>`.
 */
import { createHmac } from 'node:crypto';
import { pyIsoformatUtc, pyJsonDumps } from '../python/pyjson.js';

export const WEBHOOK_SIGNATURE_HEADER = 'X-MLflow-Signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'X-MLflow-Timestamp';
export const WEBHOOK_DELIVERY_ID_HEADER = 'X-MLflow-Delivery-Id';

/** `<Payload>.example()` of mlflow/webhooks/types.py, per `entity.action`, in MLflow's key order. */
export const EXAMPLE_PAYLOADS: Readonly<Record<string, Record<string, unknown>>> = {
  'registered_model.created': { name: 'example_model', tags: { example_key: 'example_value' }, description: 'An example registered model' },
  'model_version.created': {
    name: 'example_model',
    version: '1',
    source: 'models:/123',
    run_id: 'abcd1234abcd5678',
    tags: { example_key: 'example_value' },
    description: 'An example model version',
  },
  'model_version_tag.set': { name: 'example_model', version: '1', key: 'example_key', value: 'example_value' },
  'model_version_tag.deleted': { name: 'example_model', version: '1', key: 'example_key' },
  'model_version_alias.created': { name: 'example_model', alias: 'example_alias', version: '1' },
  'model_version_alias.deleted': { name: 'example_model', alias: 'example_alias' },
  'prompt.created': { name: 'example_prompt', tags: { example_key: 'example_value' }, description: 'An example prompt' },
  'prompt_version.created': {
    name: 'example_prompt',
    version: '1',
    template: 'Hello {{name}}!',
    tags: { example_key: 'example_value' },
    description: 'An example prompt version',
  },
  'prompt_tag.set': { name: 'example_prompt', key: 'example_key', value: 'example_value' },
  'prompt_tag.deleted': { name: 'example_prompt', key: 'example_key' },
  'prompt_version_tag.set': { name: 'example_prompt', version: '1', key: 'example_key', value: 'example_value' },
  'prompt_version_tag.deleted': { name: 'example_prompt', version: '1', key: 'example_key' },
  'prompt_alias.created': { name: 'example_prompt', alias: 'example_alias', version: '1' },
  'prompt_alias.deleted': { name: 'example_prompt', alias: 'example_alias' },
  'budget_policy.exceeded': {
    budget_policy_id: 'bp-abc123',
    budget_unit: 'USD',
    budget_amount: 100.0,
    current_spend: 105.5,
    duration_unit: 'MONTHS',
    duration_value: 1,
    target_scope: 'ENDPOINT',
    workspace: 'default',
    target_value: 'ep-abc123',
    window_start: 1704067200000,
  },
};

/** Float-valued fields of the examples (Python writes `100.0`, JS would write `100`). */
const FLOAT_FIELDS = new Set(['budget_amount', 'current_spend']);

/** json.dumps of an example payload (floats kept as floats). */
export function examplePayloadJson(event: string): string | undefined {
  const ex = EXAMPLE_PAYLOADS[event];
  if (!ex) return undefined;
  const parts = Object.entries(ex).map(([k, v]) => {
    const val = FLOAT_FIELDS.has(k) && typeof v === 'number' && Number.isInteger(v) ? `${v}.0` : pyJsonDumps(v);
    return `${pyJsonDumps(k)}: ${val}`;
  });
  return `{${parts.join(', ')}}`;
}

/**
 * The request body: `json.dumps({"entity", "action", "timestamp", "data"})`, `data` already serialised, and
 * with workspaces on the webhook's `"workspace"` last (as MLflow adds it only then).
 */
export function deliveryBody(entity: string, action: string, timeMs: number, dataJson: string, workspace?: string): string {
  const ws = workspace === undefined ? '' : `, "workspace": ${pyJsonDumps(workspace)}`;
  return `{"entity": ${pyJsonDumps(entity)}, "action": ${pyJsonDumps(action)}, "timestamp": ${pyJsonDumps(pyIsoformatUtc(timeMs))}, "data": ${dataJson}${ws}}`;
}

/** `_generate_hmac_signature`: `v1,` + base64 HMAC-SHA256 of `<delivery_id>.<timestamp>.<payload>`. */
export function signature(secret: string, deliveryId: string, unixTimestamp: string, body: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${deliveryId}.${unixTimestamp}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The headers of one attempt (the timestamp is the time of sending, as in MLflow). */
export function deliveryHeaders(deliveryId: string, body: string, secret: string | null | undefined, nowMs: number = Date.now()): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    [WEBHOOK_DELIVERY_ID_HEADER]: deliveryId,
    [WEBHOOK_TIMESTAMP_HEADER]: ts,
  };
  if (secret) headers[WEBHOOK_SIGNATURE_HEADER] = signature(secret, deliveryId, ts, body);
  return headers;
}
