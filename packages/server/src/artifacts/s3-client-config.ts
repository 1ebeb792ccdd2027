/**
 * The S3 client settings of an S3_* configuration, shared by the metadata change log (METADATA_STORE=s3)
 * and the doctor's bucket check: credentials when given (else the SDK's default chain), and for a custom
 * endpoint (MinIO, moto …) path-style addressing. Checksums only when the operation requires them, which
 * S3-compatible servers accept.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Config } from '../config.js';

export function s3ClientConfig(s3: S3Config, sessionToken?: string): S3ClientConfig {
  return {
    region: s3.region,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, sessionToken } } : {}),
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
  };
}
