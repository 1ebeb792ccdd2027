/**
 * Helpers of the workspace suites: a registry client bound to one workspace (it sends
 * X-MLFLOW-WORKSPACE on every request) and the workspace API.
 */
import { Client, type Res } from '../registry/util.js';
import type { TestServer } from '../helpers/server.js';

export const WS_API = '/api/3.0/mlflow/workspaces';

export class WsClient extends Client {
  constructor(
    server: TestServer | (() => TestServer),
    readonly workspace: string | undefined,
    prefix?: string,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    super(server, prefix);
  }

  override raw(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Res> {
    const headers = { ...this.extraHeaders, ...(init.headers ?? {}) };
    if (this.workspace !== undefined) headers['x-mlflow-workspace'] = this.workspace;
    return super.raw(method, path, { ...init, headers });
  }

  /** The same client on another path prefix (e.g. the artifact API). */
  at(prefix: string): WsClient {
    return new WsClient(() => this.s, this.workspace, prefix, this.extraHeaders);
  }

  createWorkspace(name: string, extra: Record<string, unknown> = {}): Promise<Res> {
    return this.raw('POST', WS_API, { body: JSON.stringify({ name, ...extra }), headers: { 'content-type': 'application/json' } });
  }
  deleteWorkspace(name: string, mode?: string): Promise<Res> {
    return this.raw('DELETE', `${WS_API}/${name}${mode ? `?mode=${mode}` : ''}`);
  }
}

export const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
