/**
 * Handler-level schemas of the artifact operations that take a JSON request: MLflow's multipart handlers
 * (`_create/_complete/_abort_multipart_upload_artifact`) and our direct-transfer extension. The HTTP
 * handlers run them before the service.
 */
import type { RequestChecks } from '../registry/req.js';

const MP = {
  path: ['string', 'required'],
  num_parts: ['intlike'],
  upload_id: ['string'],
  parts: ['required'],
} as const;

export const artifactRequestChecks = {
  createMultipartUpload: { path: MP.path, num_parts: MP.num_parts },
  completeMultipartUpload: { path: MP.path, upload_id: MP.upload_id, parts: MP.parts },
  abortMultipartUpload: { path: MP.path, upload_id: MP.upload_id },
  createDirectUpload: { path: ['string', 'required'], size: ['intlike', 'required'], part_size: ['intlike'] },
  completeDirectUpload: { path: ['string', 'required'], upload_id: ['string', 'required'], parts: ['array', 'required'] },
  abortDirectUpload: { path: ['string', 'required'], upload_id: ['string', 'required'] },
  getDirectDownloadUrl: { path: ['string', 'required'] },
} as const satisfies RequestChecks;
