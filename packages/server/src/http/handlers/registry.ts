/**
 * Thin bindings of the 22 model-registry operations to the registry service. Each runs MLflow's
 * handler-level checks on the request (registry/request-checks.ts), then calls the service with the
 * operation's typed input and the caller (http/authn.ts callerOf): the request's workspace, and the
 * actor of a change, the creator's grant, the search filter.
 */
import type { Context } from 'hono';
import type { Caller, RegistryService } from '../../registry/service.js';
import type { Handler, HandlerResult } from '../app.js';
import type { OperationInput } from '../../gen/inputs.gen.js';
import { checkSchema } from '../../registry/req.js';
import { registryRequestChecks, type RegistryOperationId } from '../../registry/request-checks.js';
import { callerOf } from '../authn.js';

export type { RegistryOperationId };

export function registryHandlers(svc: RegistryService): { [K in RegistryOperationId]: Handler<K> } {
  /** Operation `op`: MLflow's checks, then `run` with the typed input; searches get the caller's read filter. */
  const bind =
    <K extends RegistryOperationId>(op: K, run: (input: OperationInput<K>, caller: Caller) => Promise<HandlerResult<K>>, search = false): Handler<K> =>
    (r, c: Context) => {
      checkSchema(r, registryRequestChecks[op]);
      return run(r.fields, callerOf(c, search));
    };
  return {
    createRegisteredModel: bind('createRegisteredModel', (i, who) => svc.createRegisteredModel(i, who)),
    renameRegisteredModel: bind('renameRegisteredModel', (i, who) => svc.renameRegisteredModel(i, who)),
    updateRegisteredModel: bind('updateRegisteredModel', (i, who) => svc.updateRegisteredModel(i, who)),
    deleteRegisteredModel: bind('deleteRegisteredModel', (i, who) => svc.deleteRegisteredModel(i, who)),
    getRegisteredModel: bind('getRegisteredModel', (i, who) => svc.getRegisteredModel(i, who)),
    searchRegisteredModels: bind('searchRegisteredModels', (i, who) => svc.searchRegisteredModels(i, who), true),
    getLatestVersions: bind('getLatestVersions', (i, who) => svc.getLatestVersions(i, who)),
    getLatestVersionsGet: bind('getLatestVersionsGet', (i, who) => svc.getLatestVersions(i, who)),
    setRegisteredModelTag: bind('setRegisteredModelTag', (i, who) => svc.setRegisteredModelTag(i, who)),
    deleteRegisteredModelTag: bind('deleteRegisteredModelTag', (i, who) => svc.deleteRegisteredModelTag(i, who)),
    setRegisteredModelAlias: bind('setRegisteredModelAlias', (i, who) => svc.setRegisteredModelAlias(i, who)),
    deleteRegisteredModelAlias: bind('deleteRegisteredModelAlias', (i, who) => svc.deleteRegisteredModelAlias(i, who)),
    getModelVersionByAlias: bind('getModelVersionByAlias', (i, who) => svc.getModelVersionByAlias(i, who)),
    createModelVersion: bind('createModelVersion', (i, who) => svc.createModelVersion(i, who)),
    updateModelVersion: bind('updateModelVersion', (i, who) => svc.updateModelVersion(i, who)),
    transitionModelVersionStage: bind('transitionModelVersionStage', (i, who) => svc.transitionModelVersionStage(i, who)),
    deleteModelVersion: bind('deleteModelVersion', (i, who) => svc.deleteModelVersion(i, who)),
    getModelVersion: bind('getModelVersion', (i, who) => svc.getModelVersion(i, who)),
    searchModelVersions: bind('searchModelVersions', (i, who) => svc.searchModelVersions(i, who), true),
    getModelVersionDownloadUri: bind('getModelVersionDownloadUri', (i, who) => svc.getModelVersionDownloadUri(i, who)),
    setModelVersionTag: bind('setModelVersionTag', (i, who) => svc.setModelVersionTag(i, who)),
    deleteModelVersionTag: bind('deleteModelVersionTag', (i, who) => svc.deleteModelVersionTag(i, who)),
  };
}
