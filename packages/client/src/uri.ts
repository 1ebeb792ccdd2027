/**
 * `models:/` URIs, parsed as MLflow's `_parse_model_uri` (mlflow/store/artifact/utils/models.py)
 * does, and artifact URIs of the server's artifact proxy.
 */

/** A parsed `models:/` URI: exactly one of `version`, `stage`, `alias`, or `latest`. */
export type ParsedModelUri =
  | {
      /** `models:/<name>/<version>`. */
      kind: 'version';
      /** Registered model name. */
      name: string;
      /** The version number, as written. */
      version: string;
    }
  | {
      /** `models:/<name>/<stage>`. */
      kind: 'stage';
      /** Registered model name. */
      name: string;
      /** The stage, as written (MLflow matches it case-insensitively). */
      stage: string;
    }
  | {
      /** `models:/<name>@<alias>`. */
      kind: 'alias';
      /** Registered model name. */
      name: string;
      /** The alias. */
      alias: string;
    }
  | {
      /** `models:/<name>/latest`. */
      kind: 'latest';
      /** Registered model name. */
      name: string;
    };

function improper(uri: string): TypeError {
  return new TypeError(
    `Not a proper models:/ URI: ${uri}. Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' ` +
      "where suffix is a version, stage, or the string 'latest' and where alias is a registered model alias. " +
      'Only one of suffix or alias can be defined at a time.',
  );
}

/**
 * Parses `models:/<name>/<version>`, `models:/<name>/<stage>`, `models:/<name>/latest` and
 * `models:/<name>@<alias>` with MLflow's rules: a suffix of digits is a version, `latest` (any case)
 * the latest version, anything else a stage; `@` splits at its last occurrence. `models:/<model_id>`
 * (a LoggedModel of a tracking server) is not a registry URI and is refused, like malformed URIs,
 * with a `TypeError`.
 */
export function parseModelUri(uri: string): ParsedModelUri {
  const m = /^models:(.*)$/i.exec(uri);
  if (!m || !uri.startsWith('models:')) throw improper(uri);
  let rest = m[1]!;
  // urllib.parse.urlparse: `//netloc` is not part of the path; a query is cut off (fragments are kept).
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/') || rest.length <= 1) throw improper(uri);
  const parts = rest.replace(/^\/+/, '').split('/');
  if (parts.length > 2 || parts[0]!.trim() === '') throw improper(uri);
  if (parts.length === 2) {
    const [name, suffix] = parts as [string, string];
    if (suffix.trim() === '') throw improper(uri);
    if (/^[0-9]+$/.test(suffix)) return { kind: 'version', name, version: suffix };
    if (suffix.toLowerCase() === 'latest') return { kind: 'latest', name };
    return { kind: 'stage', name, stage: suffix };
  }
  if (rest.includes('@')) {
    const at = parts[0]!.lastIndexOf('@');
    const alias = parts[0]!.slice(at + 1);
    if (at < 0 || alias.trim() === '') throw improper(uri);
    return { kind: 'alias', name: parts[0]!.slice(0, at), alias };
  }
  throw new TypeError(
    `${uri} names a logged model (models:/<model_id>), which lives in a tracking server, not in the registry; ` +
      "use 'models:/name/version', 'models:/name/stage', 'models:/name/latest' or 'models:/name@alias'",
  );
}

const PROXY_PATH = '/api/2.0/mlflow-artifacts/artifacts';

/**
 * The path inside the server's artifact proxy that an artifact URI points to, or undefined when the
 * URI is not served by the proxy of `baseUrl`: `mlflow-artifacts:/p`, `mlflow-artifacts://host/p`,
 * or `<baseUrl>/api/2.0/mlflow-artifacts/artifacts/p`.
 */
export function proxyArtifactPath(uri: string, baseUrl: string): string | undefined {
  const trim = (p: string) => decodeURIComponent(p).replace(/^\/+|\/+$/g, '');
  if (uri.startsWith('mlflow-artifacts:')) {
    let rest = uri.slice('mlflow-artifacts:'.length);
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    return trim(rest);
  }
  const base = baseUrl.replace(/\/+$/, '') + PROXY_PATH;
  if (uri === base) return '';
  if (uri.startsWith(`${base}/`)) return trim(uri.slice(base.length));
  return undefined;
}
