/**
 * The workspace API (MLflow 3.17's _list/_create/_get/_update/_delete_workspace_handler in
 * mlflow/server/handlers.py), over the catalogue (store.ts). No HTTP here beyond the answers' shapes.
 */
import { MlflowError } from '../errors.js';
import type { Executor } from '../store/db.js';
import { checkSchema, invalidValueError, type ParsedRequest, type RawRequest } from '../registry/req.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import { pyRepr } from '../python/repr.js';
import { DEFAULT_WORKSPACE, validateWorkspaceName } from './names.js';
import { DELETION_MODES, type DeletionMode, type WorkspaceRow, type WorkspaceStore } from './store.js';

/** The proto Workspace: unset fields omitted. */
export interface WorkspaceJson {
  name: string;
  description?: string;
  default_artifact_root?: string;
  trace_archival_config?: { location?: string; retention?: string };
}

export function workspaceJson(row: WorkspaceRow): WorkspaceJson {
  const out: WorkspaceJson = { name: row.name };
  if (row.description !== null) out.description = row.description;
  if (row.default_artifact_root !== null) out.default_artifact_root = row.default_artifact_root;
  if (row.trace_archival_location !== null || row.trace_archival_retention !== null) {
    out.trace_archival_config = {};
    if (row.trace_archival_location !== null) out.trace_archival_config.location = row.trace_archival_location;
    if (row.trace_archival_retention !== null) out.trace_archival_config.retention = row.trace_archival_retention;
  }
  return out;
}

export interface WorkspaceServiceOptions {
  /** MLflow's host-addressed scheme policy for default_artifact_root: a refusal message, or undefined. */
  refuseHost?: (uri: string) => boolean;
  /** Runs in the deleting transaction (announces the change to the other replicas). */
  announceDelete?: (tx: Executor) => Promise<void>;
  /** After a workspace was deleted: drop what is cached, and its roles and grants (MLflow's after-request hook). */
  afterDelete?: (name: string) => Promise<void>;
}

const MAX_LOCATION_LENGTH = 2048; // MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH's default
const USES_PARAMS = new Set(['', 'ftp', 'hdl', 'prospero', 'http', 'imap', 'https', 'shttp', 'rtsp', 'rtsps', 'rtspu', 'sip', 'sips', 'mms', 'sftp', 'tel']);
const RETENTION = /^[1-9][0-9]*[mhd]$/;
const HOST_HINT = 'Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server to allow it.';

/** The handlers' type checks always run (proto_parsing_succeeded=None). */
const strictly = (req: RawRequest): RawRequest => ({ raw: req.raw, parseOk: false });

export class WorkspaceService {
  constructor(
    private readonly store: WorkspaceStore,
    private readonly opts: WorkspaceServiceOptions = {},
  ) {}

  async list(): Promise<{ workspaces?: WorkspaceJson[] }> {
    const rows = await this.store.list();
    return rows.length > 0 ? { workspaces: rows.map(workspaceJson) } : {};
  }

  async create(req: ParsedRequest<OperationInput<'createWorkspace'>>): Promise<{ workspace: WorkspaceJson }> {
    checkSchema(strictly(req), { name: ['required', 'string'], description: ['string'], default_artifact_root: ['string'] });
    const archival = this.archivalConfig(req);
    const name = req.fields.name ?? '';
    if (name === DEFAULT_WORKSPACE) throw MlflowError.invalid(`The '${DEFAULT_WORKSPACE}' workspace is reserved and cannot be created`);
    validateWorkspaceName(name);
    const root = this.artifactRoot(req.fields.default_artifact_root);
    const location = this.archivalLocation(archival.location);
    const retention = archivalRetention(archival.retention);
    const row = await this.store.create({
      name,
      description: req.fields.description ?? null,
      default_artifact_root: root || null,
      trace_archival_location: location || null,
      trace_archival_retention: retention || null,
    });
    return { workspace: workspaceJson(row) };
  }

  async get(name: string): Promise<{ workspace: WorkspaceJson }> {
    if (name !== DEFAULT_WORKSPACE) validateWorkspaceName(name);
    return { workspace: workspaceJson(await this.store.get(name)) };
  }

  async update(name: string, req: ParsedRequest<OperationInput<'updateWorkspace'>>): Promise<{ workspace: WorkspaceJson }> {
    if (name !== DEFAULT_WORKSPACE) validateWorkspaceName(name);
    checkSchema(strictly(req), { description: ['string'], default_artifact_root: ['string'] });
    const archival = this.archivalConfig(req);
    // Present in the request dict, even as null (MLflow's handler tests `in request_json`).
    const sent = (field: keyof OperationInput<'updateWorkspace'> & string) => field in req.raw;
    const hasDescription = sent('description');
    const hasRoot = sent('default_artifact_root');
    if (!hasDescription && !hasRoot && archival.location === undefined && archival.retention === undefined) {
      throw MlflowError.invalid('Workspace update must have at least one key');
    }
    const root = this.artifactRoot(hasRoot ? (req.fields.default_artifact_root ?? '') : undefined);
    const location = this.archivalLocation(archival.location);
    const retention = archivalRetention(archival.retention);
    const row = await this.store.update(name, {
      description: hasDescription ? (req.fields.description ?? '') : undefined,
      default_artifact_root: root,
      trace_archival_location: location,
      trace_archival_retention: retention,
    });
    return { workspace: workspaceJson(row) };
  }

  async delete(name: string, rawMode: string | undefined): Promise<void> {
    if (name === DEFAULT_WORKSPACE) throw MlflowError.invalid(`The '${DEFAULT_WORKSPACE}' workspace is reserved and cannot be deleted`);
    validateWorkspaceName(name);
    const modeText = rawMode ?? 'RESTRICT';
    if (!(DELETION_MODES as readonly string[]).includes(modeText)) {
      throw MlflowError.invalid(`Invalid deletion mode '${modeText}'. Must be one of: ${DELETION_MODES.join(', ')}`);
    }
    await this.store.delete(name, modeText as DeletionMode, this.opts.announceDelete ?? (async () => {}));
    await this.opts.afterDelete?.(name);
  }

  /** trace_archival_config: a dict whose location and retention are strings; which of them were sent. */
  private archivalConfig(req: RawRequest): { location?: string; retention?: string } {
    const raw = req.raw.trace_archival_config;
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidValueError('trace_archival_config', raw);
    const cfg = raw as Record<string, unknown>;
    for (const k of ['location', 'retention']) {
      if (k in cfg && typeof cfg[k] !== 'string') throw invalidValueError(k, cfg[k]);
    }
    const out: { location?: string; retention?: string } = {};
    if ('location' in cfg) out.location = cfg.location as string;
    if ('retention' in cfg) out.retention = cfg.retention as string;
    return out;
  }

  /** _validate_storage_location_uri, trimmed; '' clears, undefined leaves as is. */
  private storageLocation(value: string | undefined, field: string): string | undefined {
    if (value === undefined) return undefined;
    const v = value.trim();
    if (!v) return '';
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v);
    const afterScheme = m ? v.slice(m[0].length) : v;
    // urlparse: a fragment, or `;params` on the last path segment of the schemes that have them.
    let pathPart = afterScheme.split('#')[0]!.split('?')[0]!;
    if (pathPart.startsWith('//')) pathPart = pathPart.slice(2).includes('/') ? pathPart.slice(pathPart.indexOf('/', 2)) : '';
    const params = USES_PARAMS.has(m?.[1]?.toLowerCase() ?? '') && /;./.test(pathPart.slice(pathPart.lastIndexOf('/') + 1));
    const hash = v.indexOf('#');
    if ((hash >= 0 && hash < v.length - 1) || params) throw MlflowError.invalid(`'${field}' URL can't include fragments or params.`);
    const query = v.includes('?') ? v.slice(v.indexOf('?') + 1).split('#')[0]! : '';
    if (decodeRepeatedly(query).includes('..')) throw MlflowError.invalid('Invalid query string');
    if (this.opts.refuseHost?.(v)) {
      const scheme = m![1]!.toLowerCase();
      throw MlflowError.invalid(
        `'${field}' cannot use the '${scheme}' scheme: the '${scheme}' scheme addresses a host other than the tracking server's configured artifact storage, so the server would connect to the host named in the URI. ${HOST_HINT}`,
      );
    }
    if (v.startsWith('runs:')) throw MlflowError.invalid(`Artifact location cannot be a runs:/ URI. Given: '${v}'`);
    if ([...v].length > MAX_LOCATION_LENGTH) {
      throw MlflowError.invalid(
        `Invalid artifact path length. The length of the artifact path cannot be greater than ${MAX_LOCATION_LENGTH} characters. To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable.`,
      );
    }
    return v;
  }

  /** _validate_workspace_default_artifact_root: a URI or an absolute path. */
  private artifactRoot(value: string | undefined): string | undefined {
    const v = this.storageLocation(value, 'default_artifact_root');
    if (!v) return v;
    // get_uri_scheme: a one-letter scheme ('C:x') counts as a local path too.
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v)?.[1];
    if (!scheme && !v.startsWith('/')) {
      throw MlflowError.invalid(
        `Invalid value for 'default_artifact_root'. Expected a URI (for example 's3://bucket/prefix' or 'mlflow-artifacts:/prefix') or an absolute path, got ${pyRepr(v)}.`,
      );
    }
    return v;
  }

  /** _validate_workspace_trace_archival_location: a URI with a scheme other than mlflow-artifacts. */
  private archivalLocation(value: string | undefined): string | undefined {
    const field = 'trace_archival_config.location';
    const v = this.storageLocation(value, field);
    if (!v) return v;
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v)?.[1]?.toLowerCase();
    if (!scheme) throw MlflowError.invalid(`Invalid value for '${field}'. Expected a URI string.`);
    if (scheme === 'mlflow-artifacts') {
      throw MlflowError.invalid(`Invalid value for '${field}'. Trace archival location cannot use the proxy-only \`mlflow-artifacts:\` scheme.`);
    }
    return v;
  }
}

/** _validate_workspace_trace_archival_retention: `<int><unit>`, unit m, h or d. */
function archivalRetention(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!v) return '';
  const field = 'trace_archival_config.retention';
  if ([...v].length > 32) throw MlflowError.invalid(`Invalid value for '${field}'. Maximum length is 32 characters.`);
  if (!RETENTION.test(v)) {
    throw MlflowError.invalid(
      `Invalid value for '${field}'. Expected a duration in the form \`<int><unit>\`, where unit is one of 'm', 'h', or 'd' (for example '30d' or '12h').`,
    );
  }
  return v;
}

/** MLflow's `_decode`: unquote until stable (at most 10 times). */
function decodeRepeatedly(s: string): string {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    let next: string;
    try {
      next = decodeURIComponent(cur);
    } catch {
      return cur;
    }
    if (next === cur) return cur;
    cur = next;
  }
  return cur;
}
