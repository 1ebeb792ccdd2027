/**
 * The endpoint MLflow's web UI calls beside the registry API: `GET /model-versions/get-artifact` (the
 * version page's schema pane reads the version's MLmodel through it), as MLflow's
 * `get_model_version_artifact_handler`: the version's download location, then the file `path` below it,
 * streamed with MLflow's headers (`Content-Disposition: attachment`, `Cache-Control: no-cache`).
 *
 * Registry-only: a location in this server's own artifact store is served (mlflow-artifacts:/, our
 * PUBLIC_URL, our bucket), through the artifact service and its path checks; any other location (a
 * `runs:/` source, a foreign bucket) has no artifact repository here and answers 404. Permissions are the
 * contract's (READ on the version, MLflow's `validate_can_read_model_version_artifact`).
 */
import type { OperationId } from '../../gen/operations.gen.js';
import type { ArtifactService } from '../../artifacts/service.js';
import type { ArtifactLocations } from '../../artifacts/download-uri.js';
import type { RegistryService } from '../../registry/service.js';
import { MlflowError } from '../../errors.js';
import { join, parseDecodedPath, ROOT } from '../../artifacts/paths.js';
import { scopeToWorkspace } from '../../artifacts/workspace-paths.js';
import { callerOf } from '../authn.js';
import { enabledWorkspaceOf } from '../workspace.js';
import type { Handler } from '../app.js';

export type UiOperationId = Extract<OperationId, 'getModelVersionArtifact'>;

export interface UiHandlerDeps {
  registry: RegistryService;
  artifacts: { service: ArtifactService; locations: ArtifactLocations };
}

export function uiHandlers(deps: UiHandlerDeps): { [K in UiOperationId]: Handler<K> } {
  return {
    getModelVersionArtifact: async (r, c) => {
      const raw = r.fields.path;
      // MLflow reads `request.args["path"]`: missing, Flask answers 400.
      if (raw === undefined) {
        throw MlflowError.invalid("Missing value for required parameter 'path'. See the API docs for more information about request parameters.");
      }
      const rel = parseDecodedPath(raw);
      const { artifact_uri: uri } = await deps.registry.getModelVersionDownloadUri(r.fields, callerOf(c));
      const base = uri === undefined ? undefined : deps.artifacts.locations.resolve(uri);
      if (base === undefined) {
        throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `The artifacts of this model version are not in this server's artifact store: '${uri ?? ''}'`);
      }
      const p = scopeToWorkspace(join(base, rel), enabledWorkspaceOf(c));
      if (p === ROOT) throw MlflowError.invalid("Artifact path refers to a directory, not a file: ''");
      const d = await deps.artifacts.service.download(p);
      const headers = new Headers({
        'content-type': d.contentType,
        'content-disposition': d.disposition,
        'content-length': String(d.object.size),
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      if (d.object.lastModified) headers.set('last-modified', d.object.lastModified.toUTCString());
      if (c.req.method === 'HEAD') {
        void d.object.body.cancel().catch(() => undefined);
        return new Response(null, { status: 200, headers });
      }
      return new Response(d.object.body, { status: 200, headers });
    },
  };
}
