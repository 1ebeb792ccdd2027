/**
 * The one error type of the server. Domain code throws it; the HTTP edge (http/app.ts) renders it
 * as MLflow's `{"error_code", "message"}` body with the status MLflow uses for that code.
 */

/** HTTP status per MLflow error code (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS). Unlisted codes are 500. */
const STATUS_BY_CODE: Record<string, number> = {
  INTERNAL_ERROR: 500,
  TEMPORARILY_UNAVAILABLE: 503,
  BAD_REQUEST: 400,
  DEADLINE_EXCEEDED: 504,
  CANCELLED: 499,
  RESOURCE_EXHAUSTED: 429,
  ABORTED: 409,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  UNAUTHENTICATED: 401,
  INVALID_PARAMETER_VALUE: 400,
  ENDPOINT_NOT_FOUND: 404,
  INVALID_STATE: 500,
  PERMISSION_DENIED: 403,
  CUSTOMER_UNAUTHORIZED: 401,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_CONFLICT: 409,
  NOT_IMPLEMENTED: 501,
  DATA_LOSS: 500,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
};

export type ErrorCode =
  | 'INTERNAL_ERROR'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'ENDPOINT_NOT_FOUND'
  | 'INVALID_STATE'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'NOT_IMPLEMENTED'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_EXHAUSTED'
  | 'RESOURCE_CONFLICT'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'FEATURE_DISABLED';

export class MlflowError extends Error {
  readonly errorCode: ErrorCode;
  /** Overrides the status derived from the code (used for deliberate 400s where MLflow answers 500). */
  readonly statusOverride: number | undefined;
  /**
   * A server-side cause to log (at warn, never sent to the client) where the error is rendered, with the
   * request's id: e.g. the storage error behind a 5xx (artifacts/s3.ts).
   */
  report: { msg: string; fields: Record<string, unknown> } | undefined;

  constructor(errorCode: ErrorCode, message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MlflowError';
    this.errorCode = errorCode;
    this.statusOverride = options?.status;
  }

  get status(): number {
    return this.statusOverride ?? STATUS_BY_CODE[this.errorCode] ?? 500;
  }

  toJSON(): ErrorBody {
    return errorBody(this.errorCode, this.message);
  }

  static invalid(message: string): MlflowError {
    return new MlflowError('INVALID_PARAMETER_VALUE', message);
  }

  static notFound(message: string): MlflowError {
    return new MlflowError('RESOURCE_DOES_NOT_EXIST', message);
  }

  static alreadyExists(message: string): MlflowError {
    return new MlflowError('RESOURCE_ALREADY_EXISTS', message);
  }

  static notImplemented(message: string): MlflowError {
    return new MlflowError('NOT_IMPLEMENTED', message);
  }

  /** A request body above its size limit: RESOURCE_EXHAUSTED, answered 413 (Payload Too Large). */
  static tooLarge(message: string): MlflowError {
    return new MlflowError('RESOURCE_EXHAUSTED', message, { status: 413 });
  }

  /** A request body that did not arrive in time: DEADLINE_EXCEEDED, answered 408 (Request Timeout). */
  static timeout(message: string): MlflowError {
    return new MlflowError('DEADLINE_EXCEEDED', message, { status: 408 });
  }

  /** The client went away before its request was complete: CANCELLED (499, nobody reads the answer). */
  static cancelled(message: string): MlflowError {
    return new MlflowError('CANCELLED', message);
  }
}

export interface ErrorBody {
  error_code: string;
  message: string;
  sqlstate?: string;
  error_class?: string;
}

/**
 * MLflow ≥ 3.12 classifies every error (mlflow/error_classification.py, the client-side maps that
 * MlflowException uses on the server): `error_class` and `sqlstate` derived from the code.
 */
const ERROR_CLASS: Record<string, [errorClass: string, sqlstate: string]> = {
  BAD_REQUEST: ['INVALID_PARAMETER_VALUE', 'KAM00'],
  CUSTOMER_UNAUTHORIZED: ['PERMISSION_DENIED', 'KAM00'],
  ENDPOINT_NOT_FOUND: ['RESOURCE_NOT_FOUND', 'KAM00'],
  FEATURE_DISABLED: ['FEATURE_DISABLED', 'KAM00'],
  INTERNAL_ERROR: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
  INVALID_PARAMETER_VALUE: ['INVALID_PARAMETER_VALUE', 'KAM00'],
  INVALID_STATE: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
  NOT_FOUND: ['RESOURCE_NOT_FOUND', 'KAM00'],
  PERMISSION_DENIED: ['PERMISSION_DENIED', 'KAM00'],
  RESOURCE_ALREADY_EXISTS: ['RESOURCE_ALREADY_EXISTS', 'KAM00'],
  RESOURCE_DOES_NOT_EXIST: ['RESOURCE_NOT_FOUND', 'KAM00'],
  TEMPORARILY_UNAVAILABLE: ['CLIENT_INTERNAL_ERROR', 'XXM00'],
};

/** The JSON body of an error, exactly as MLflow serialises an MlflowException. */
export function errorBody(code: string, message: string): ErrorBody {
  const cls = ERROR_CLASS[code];
  return cls ? { error_code: code, message, sqlstate: cls[1], error_class: cls[0] } : { error_code: code, message };
}

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}
