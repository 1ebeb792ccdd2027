/**
 * Thin bindings of the 22 model-registry operations to the registry service. Every operation gets the
 * caller (http/authn.ts callerOf): the request's workspace, and the actor of a change, the creator's
 * grant, the search filter.
 */
import type { RegistryService } from '../../registry/service.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import { callerOf } from '../authn.js';

export type RegistryOperationId = Extract<
  OperationId,
  | 'createRegisteredModel'
  | 'renameRegisteredModel'
  | 'updateRegisteredModel'
  | 'deleteRegisteredModel'
  | 'getRegisteredModel'
  | 'searchRegisteredModels'
  | 'getLatestVersions'
  | 'getLatestVersionsGet'
  | 'setRegisteredModelTag'
  | 'deleteRegisteredModelTag'
  | 'setRegisteredModelAlias'
  | 'deleteRegisteredModelAlias'
  | 'getModelVersionByAlias'
  | 'createModelVersion'
  | 'updateModelVersion'
  | 'transitionModelVersionStage'
  | 'deleteModelVersion'
  | 'getModelVersion'
  | 'searchModelVersions'
  | 'getModelVersionDownloadUri'
  | 'setModelVersionTag'
  | 'deleteModelVersionTag'
>;

export function registryHandlers(svc: RegistryService): Record<RegistryOperationId, Handler> {
  return {
    createRegisteredModel: (r, c) => svc.createRegisteredModel(r, callerOf(c)),
    renameRegisteredModel: (r, c) => svc.renameRegisteredModel(r, callerOf(c)),
    updateRegisteredModel: (r, c) => svc.updateRegisteredModel(r, callerOf(c)),
    deleteRegisteredModel: (r, c) => svc.deleteRegisteredModel(r, callerOf(c)),
    getRegisteredModel: (r, c) => svc.getRegisteredModel(r, callerOf(c)),
    searchRegisteredModels: (r, c) => svc.searchRegisteredModels(r, callerOf(c, true)),
    getLatestVersions: (r, c) => svc.getLatestVersions(r, callerOf(c)),
    getLatestVersionsGet: (r, c) => svc.getLatestVersions(r, callerOf(c)),
    setRegisteredModelTag: (r, c) => svc.setRegisteredModelTag(r, callerOf(c)),
    deleteRegisteredModelTag: (r, c) => svc.deleteRegisteredModelTag(r, callerOf(c)),
    setRegisteredModelAlias: (r, c) => svc.setRegisteredModelAlias(r, callerOf(c)),
    deleteRegisteredModelAlias: (r, c) => svc.deleteRegisteredModelAlias(r, callerOf(c)),
    getModelVersionByAlias: (r, c) => svc.getModelVersionByAlias(r, callerOf(c)),
    createModelVersion: (r, c) => svc.createModelVersion(r, callerOf(c)),
    updateModelVersion: (r, c) => svc.updateModelVersion(r, callerOf(c)),
    transitionModelVersionStage: (r, c) => svc.transitionModelVersionStage(r, callerOf(c)),
    deleteModelVersion: (r, c) => svc.deleteModelVersion(r, callerOf(c)),
    getModelVersion: (r, c) => svc.getModelVersion(r, callerOf(c)),
    searchModelVersions: (r, c) => svc.searchModelVersions(r, callerOf(c, true)),
    getModelVersionDownloadUri: (r, c) => svc.getModelVersionDownloadUri(r, callerOf(c)),
    setModelVersionTag: (r, c) => svc.setModelVersionTag(r, callerOf(c)),
    deleteModelVersionTag: (r, c) => svc.deleteModelVersionTag(r, callerOf(c)),
  };
}
