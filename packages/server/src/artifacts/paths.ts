/**
 * Artifact path safety, in one place. Every artifact path a client sends (URL path parameter, `path`
 * query parameter, JSON field, model version source) becomes an `ArtifactPath` here and only here:
 * decoded exactly once, checked, normalised once. The stores accept nothing else, so no code path can
 * hand them an unchecked string.
 *
 * Rejected (400 INVALID_PARAMETER_VALUE "Invalid path", MLflow's `validate_path_is_safe` answer):
 *  - `..` segments (also `%2e%2e` and friends once decoded), absolute paths (`/etc`), drive paths (`C:/`,
 *    `c:x`) and `file:` URIs;
 *  - backslashes (a separator on Windows: `a\..\b`), `#` and `?` (fragment/query smuggling,
 *    CVE-2023-6909 / CVE-2024-3848 / CVE-2024-2928);
 *  - NUL and every other control character;
 *  - percent-escapes that survive the single decode (`%252E%252E` → `%2E%2E`): double-encoded
 *    sequences (CVE-2023-6831 → CVE-2024-1560). MLflow decodes repeatedly instead, which is how the
 *    bypass worked; we decode once and refuse what would decode further;
 *  - malformed percent-encoding or invalid UTF-8.
 *
 * Normalisation: empty and `.` segments are dropped (`a//b/./c/` → `a/b/c`), so both stores address
 * the same object for the same request. The empty path is the root.
 */
import { MlflowError } from '../errors.js';

/** A checked, normalised, relative artifact path: segments joined by `/`, no empty/`.`/`..` segments. `''` is the root. */
export type ArtifactPath = string & { readonly __artifactPath: unique symbol };

export const ROOT = '' as ArtifactPath;

export const INVALID_PATH_MESSAGE = 'Invalid path';

export function invalidPath(): MlflowError {
  return MlflowError.invalid(INVALID_PATH_MESSAGE);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_CHARS = /[#?\\]/;
const PERCENT_ESCAPE = /%[0-9a-fA-F]{2}/;
const DRIVE = /^[a-zA-Z]:/;
const FILE_URI = /^file:/i;

/**
 * Checks an already-decoded path (query parameter values and JSON fields arrive decoded) and returns
 * it normalised. Throws 400 "Invalid path".
 */
export function parseDecodedPath(value: string): ArtifactPath {
  if (
    CONTROL.test(value) ||
    FORBIDDEN_CHARS.test(value) ||
    PERCENT_ESCAPE.test(value) ||
    value.startsWith('/') ||
    DRIVE.test(value) ||
    FILE_URI.test(value)
  ) {
    throw invalidPath();
  }
  const segments = value.split('/');
  if (segments.includes('..')) throw invalidPath();
  return segments.filter((s) => s !== '' && s !== '.').join('/') as ArtifactPath;
}

/**
 * Decodes a percent-encoded path (the `{artifact_path}` URL parameter, the path of an artifact URI)
 * exactly once, then checks and normalises it like `parseDecodedPath`.
 */
export function parseEncodedPath(encoded: string): ArtifactPath {
  return parseDecodedPath(decodeOnce(encoded));
}

/** One `decodeURIComponent`, with malformed escapes and invalid UTF-8 reported as "Invalid path". */
export function decodeOnce(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw invalidPath();
  }
}

/**
 * The file an upload writes: the path must name a file, not the root or a directory (`a/b/`). MLflow's
 * wording for the trailing slash.
 */
export function requireFilePath(decoded: string, p: ArtifactPath): ArtifactPath {
  if (decoded.endsWith('/')) {
    throw MlflowError.invalid("Artifact path must include a filename (cannot end with '/').");
  }
  if (p === ROOT) throw invalidPath();
  return p;
}

/**
 * `dir/<basename of clientPath>`: the multipart routes name the object by the basename of the client's
 * local file (`{"path": "/tmp/model/model.bin"}`). Either separator counts, so Windows clients'
 * `C:\\x\\model.bin` yields `model.bin`; the basename is then checked like any path.
 */
export function childOf(dir: ArtifactPath, clientPath: string): ArtifactPath {
  const base = clientPath.split(/[\\/]/).pop() ?? '';
  const name = parseDecodedPath(base);
  if (name === ROOT || name.includes('/')) throw invalidPath();
  return join(dir, name);
}

export function join(dir: ArtifactPath, rest: ArtifactPath): ArtifactPath {
  if (dir === ROOT) return rest;
  if (rest === ROOT) return dir;
  return `${dir}/${rest}` as ArtifactPath;
}

export function basename(p: ArtifactPath): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

const DOT_SEGMENT = /^(?:\.|%2e){2}$/i;

/**
 * True when the raw request target (as the client sent it, before any URL normalisation) has a `..`
 * segment, plain or percent-encoded (`%2e%2e`, `.%2E`). WHATWG URL parsing resolves such segments before
 * routing, so `/artifacts/a/../b` would otherwise quietly become `/artifacts/b`; MLflow answers 400.
 */
export function rawTargetHasDotDot(rawTarget: string): boolean {
  const q = rawTarget.search(/[?#]/);
  const pathPart = q < 0 ? rawTarget : rawTarget.slice(0, q);
  return pathPart.split('/').some((s) => DOT_SEGMENT.test(s));
}
