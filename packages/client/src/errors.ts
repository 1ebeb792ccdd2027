/**
 * The one error type the client throws for a failed call: an MLflow error answered by the server
 * (`errorCode` is MLflow's, e.g. `RESOURCE_DOES_NOT_EXIST`), or a failure on the way there
 * (`status` is 0 and `errorCode` one of {@link ClientErrorCode}).
 */

/**
 * Error codes an MLflow server answers with (the `error_code` of its JSON error body): the general
 * codes of MLflow's `databricks.proto` `ErrorCode` enum. A closed union, so that a misspelt code is a
 * compile error; a code outside it reaches you as an {@link UnknownErrorCode}.
 */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'BAD_REQUEST'
  | 'MALFORMED_REQUEST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'ENDPOINT_NOT_FOUND'
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'CUSTOMER_UNAUTHORIZED'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'RESOURCE_CONFLICT'
  | 'RESOURCE_EXHAUSTED'
  | 'RESOURCE_LIMIT_EXCEEDED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'QUOTA_EXCEEDED'
  | 'CANCELLED'
  | 'INTERNAL_ERROR'
  | 'IO_ERROR'
  | 'INVALID_STATE'
  | 'INVALID_STATE_TRANSITION'
  | 'COULD_NOT_ACQUIRE_LOCK'
  | 'DATA_LOSS'
  | 'PARTIAL_DELETE'
  | 'FEATURE_DISABLED'
  | 'NOT_IMPLEMENTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'SERVICE_UNDER_MAINTENANCE'
  | 'WORKSPACE_TEMPORARILY_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNPARSEABLE_HTTP_ERROR';

/**
 * Codes for failures detected by the client itself (`status` is 0 for the first two):
 * - `NETWORK_ERROR`: no HTTP response (connection refused or reset, DNS failure, CORS…), after retries.
 * - `DEADLINE_EXCEEDED`: the call took longer than `timeoutMs`.
 * - `INVALID_RESPONSE`: the server answered 2xx with a body that does not match the API contract
 *   (only checked with `validateResponses: true`, apart from unparseable JSON).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'DEADLINE_EXCEEDED' | 'INVALID_RESPONSE';

/** Every error code the client knows: a closed union (typos do not compile). */
export type ErrorCode = MlflowErrorCode | ClientErrorCode;

/**
 * What {@link MlflowApiError.errorCode} holds when the server sent a code that is not an
 * {@link ErrorCode} (e.g. from a newer MLflow, or a proxy); the code itself is in
 * {@link MlflowApiError.rawErrorCode}. `errorCode` is therefore a closed union of literals, so that
 * comparing it with a misspelt code (`err.errorCode === 'RESOURCE_ALREDY_EXISTS'`) is a compile error,
 * while an unknown code still reaches you through the explicit escape: `rawErrorCode`, or
 * {@link MlflowApiError.hasCode}, which accepts any string on purpose.
 */
export type UnknownErrorCode = 'UNKNOWN_ERROR_CODE';

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'INVALID_PARAMETER_VALUE', 'BAD_REQUEST', 'MALFORMED_REQUEST', 'RESOURCE_ALREADY_EXISTS', 'RESOURCE_DOES_NOT_EXIST',
  'ENDPOINT_NOT_FOUND', 'NOT_FOUND', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'CUSTOMER_UNAUTHORIZED', 'ALREADY_EXISTS',
  'ABORTED', 'RESOURCE_CONFLICT', 'RESOURCE_EXHAUSTED', 'RESOURCE_LIMIT_EXCEEDED', 'REQUEST_LIMIT_EXCEEDED', 'QUOTA_EXCEEDED',
  'CANCELLED', 'INTERNAL_ERROR', 'IO_ERROR', 'INVALID_STATE', 'INVALID_STATE_TRANSITION', 'COULD_NOT_ACQUIRE_LOCK',
  'DATA_LOSS', 'PARTIAL_DELETE', 'FEATURE_DISABLED', 'NOT_IMPLEMENTED', 'TEMPORARILY_UNAVAILABLE',
  'SERVICE_UNDER_MAINTENANCE', 'WORKSPACE_TEMPORARILY_UNAVAILABLE', 'DEADLINE_EXCEEDED', 'UNPARSEABLE_HTTP_ERROR',
  'NETWORK_ERROR', 'INVALID_RESPONSE',
]);

/** True when `code` is one of the codes the client knows ({@link ErrorCode}). */
export function isKnownErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

/** Codes used for error responses whose body is not MLflow's JSON error object (as MLflow's Python client does). */
const CODE_BY_STATUS: Readonly<Record<number, MlflowErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'ENDPOINT_NOT_FOUND',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  499: 'CANCELLED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** What {@link MlflowApiError}'s constructor takes. */
export interface MlflowApiErrorInit {
  /** The code as the server sent it (any string), or one of the client's {@link ClientErrorCode}s. */
  errorCode: string;
  /** HTTP status of the response; 0 when there was none. */
  status: number;
  /** The server's message, or the client's description of the failure. */
  message: string;
  /** HTTP method of the failed request. */
  method?: string;
  /** URL of the failed request. */
  url?: string;
  /** The underlying error (a fetch failure, a validation error), as `Error.cause`. */
  cause?: unknown;
}

/**
 * A failed call. Branch on `errorCode`:
 *
 * @example
 * ```ts
 * try {
 *   await client.getRegisteredModel({ name: 'iris' });
 * } catch (err) {
 *   if (MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST')) {
 *     await client.createRegisteredModel({ name: 'iris' });
 *   } else {
 *     throw err;
 *   }
 * }
 * ```
 */
export class MlflowApiError extends Error {
  /** Always `'MlflowApiError'`. */
  override readonly name = 'MlflowApiError';
  /**
   * MLflow error code (`RESOURCE_DOES_NOT_EXIST`, …) or a {@link ClientErrorCode}: a closed union, so
   * that comparing it with a misspelt code does not compile. A code the client does not know is
   * `'UNKNOWN_ERROR_CODE'` ({@link UnknownErrorCode}) here and, as sent, in {@link rawErrorCode}.
   */
  readonly errorCode: ErrorCode | UnknownErrorCode;
  /** The code exactly as the server sent it (for a known code, the same as {@link errorCode}). */
  readonly rawErrorCode: string;
  /** HTTP status of the response; 0 when there was none (network error, timeout). */
  readonly status: number;
  /** HTTP method of the failed request. */
  readonly method: string | undefined;
  /** URL of the failed request. */
  readonly url: string | undefined;

  constructor(init: MlflowApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.errorCode = isKnownErrorCode(init.errorCode) ? init.errorCode : 'UNKNOWN_ERROR_CODE';
    this.rawErrorCode = init.errorCode;
    this.status = init.status;
    this.method = init.method;
    this.url = init.url;
  }

  /**
   * True when `err` is an MlflowApiError (with one of the given codes, if any).
   *
   * @example
   * ```ts
   * const exists = await client.getRegisteredModel({ name: 'iris' }).then(
   *   () => true,
   *   (err: unknown) => (MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST') ? false : Promise.reject(err)),
   * );
   * ```
   */
  static is<C extends ErrorCode | UnknownErrorCode = ErrorCode | UnknownErrorCode>(err: unknown, ...codes: C[]): err is MlflowApiError & {
    /** One of the codes asked for. */
    readonly errorCode: C;
  } {
    return err instanceof MlflowApiError && (codes.length === 0 || (codes as readonly string[]).includes(err.errorCode));
  }

  /**
   * The explicit escape for codes outside {@link ErrorCode}: true when `err` is an MlflowApiError
   * whose {@link rawErrorCode} is exactly `code`, any string (so a typo here is not caught; prefer
   * {@link is} for known codes).
   *
   * @example
   * ```ts
   * if (MlflowApiError.hasCode(err, 'SOME_NEWER_MLFLOW_CODE')) retryLater();
   * ```
   */
  static hasCode(err: unknown, code: string): err is MlflowApiError {
    return err instanceof MlflowApiError && err.rawErrorCode === code;
  }

  /** @internal Builds the error for a non-2xx response from its (already read) body. */
  static fromResponse(response: Response, body: unknown, method?: string, url?: string): MlflowApiError {
    const status = response.status;
    if (body && typeof body === 'object' && typeof (body as { error_code?: unknown }).error_code === 'string') {
      const b = body as { error_code: string; message?: unknown };
      return new MlflowApiError({
        errorCode: b.error_code,
        status,
        message: typeof b.message === 'string' ? b.message : `${b.error_code} (HTTP ${status})`,
        method,
        url,
      });
    }
    const text = typeof body === 'string' ? body.trim().slice(0, 500) : '';
    return new MlflowApiError({
      errorCode: CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'),
      status,
      message: `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}${text ? `: ${text}` : ''}`,
      method,
      url,
    });
  }
}
