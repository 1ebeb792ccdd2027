/**
 * Which model-version sources may name a host. MLflow 3.17 refuses sources whose scheme makes a
 * server connect to the host they name (http, https, ftp, sftp, hdfs, viewfs, r2, b2, abfss and
 * mlflow-artifacts://host) unless the host is its own artifact storage or the operator allows the
 * scheme (MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES). We apply the same policy, with our own
 * public URL and S3 endpoint as the trusted hosts.
 */
const HOST_ADDRESSED = new Set(['ftp', 'sftp', 'hdfs', 'viewfs', 'http', 'https', 'mlflow-artifacts', 'r2', 'b2', 'abfss']);
const FAMILY: Record<string, string> = { viewfs: 'hdfs', https: 'http', 'mlflow-artifacts': 'http' };
const DEFAULT_PORTS: Record<string, number[]> = {
  ftp: [21],
  sftp: [22],
  http: [80],
  https: [443],
  'mlflow-artifacts': [80, 443],
  r2: [443],
  b2: [443],
  abfss: [443],
};

type Target = string; // `${family}|${host}|${port}`

function schemeOf(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return m ? m[1]!.toLowerCase() : '';
}

/** The (family, host, port) targets a URI would make a server connect to; undefined when it names no host. */
export function hostTargets(uri: string): Set<Target> | undefined {
  const scheme = schemeOf(uri);
  if (!HOST_ADDRESSED.has(scheme)) return undefined;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  const netloc = m ? m[1]! : '';
  if (scheme === 'mlflow-artifacts' && !netloc) return undefined;
  const family = FAMILY[scheme] ?? scheme;
  if (/[\\\s]/.test(netloc)) return new Set([`malformed|${netloc}|`]);
  const hostport = netloc.includes('@') ? netloc.slice(netloc.lastIndexOf('@') + 1) : netloc;
  const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  if (!pm) return new Set([`malformed|${netloc}|`]);
  const host = pm[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  if (pm[2] !== undefined && pm[2] !== '' && Number(pm[2]) > 65535) return new Set([`malformed|${netloc}|`]);
  const ports = pm[2] ? [Number(pm[2])] : (DEFAULT_PORTS[scheme] ?? [NaN]);
  return new Set(ports.map((p) => `${family}|${host}|${Number.isNaN(p) ? '' : p}`));
}

export interface SourceHostPolicy {
  /** URIs of our own storage (public URL, S3 endpoint): sources naming their hosts are fine. */
  trustedUris: readonly string[];
  /** Schemes the operator allows to name any host. */
  allowedSchemes: readonly string[];
}

/** Returns MLflow's refusal message for a source naming a foreign host, or undefined to accept it. */
export function refuseHostAddressedSource(source: string, policy: SourceHostPolicy): string | undefined {
  const targets = hostTargets(source);
  if (!targets) return undefined;
  const scheme = schemeOf(source);
  if (policy.allowedSchemes.map((s) => s.toLowerCase()).includes(scheme)) return undefined;
  for (const uri of policy.trustedUris) {
    for (const t of hostTargets(uri) ?? []) if (targets.has(t)) return undefined;
  }
  return (
    `'source' cannot use the '${scheme}' scheme: the '${scheme}' scheme addresses a host other than the tracking ` +
    "server's configured artifact storage, so the server would connect to the host named in the URI. " +
    'Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server to allow it.'
  );
}
