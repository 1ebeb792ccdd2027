/** Thin bindings of the 22 model-registry operations to the registry service. */
import type { RegistryService } from '../../registry/service.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';

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
    createRegisteredModel: (r) => svc.createRegisteredModel(r),
    renameRegisteredModel: (r) => svc.renameRegisteredModel(r),
    updateRegisteredModel: (r) => svc.updateRegisteredModel(r),
    deleteRegisteredModel: (r) => svc.deleteRegisteredModel(r),
    getRegisteredModel: (r) => svc.getRegisteredModel(r),
    searchRegisteredModels: (r) => svc.searchRegisteredModels(r),
    getLatestVersions: (r) => svc.getLatestVersions(r),
    getLatestVersionsGet: (r) => svc.getLatestVersions(r),
    setRegisteredModelTag: (r) => svc.setRegisteredModelTag(r),
    deleteRegisteredModelTag: (r) => svc.deleteRegisteredModelTag(r),
    setRegisteredModelAlias: (r) => svc.setRegisteredModelAlias(r),
    deleteRegisteredModelAlias: (r) => svc.deleteRegisteredModelAlias(r),
    getModelVersionByAlias: (r) => svc.getModelVersionByAlias(r),
    createModelVersion: (r) => svc.createModelVersion(r),
    updateModelVersion: (r) => svc.updateModelVersion(r),
    transitionModelVersionStage: (r) => svc.transitionModelVersionStage(r),
    deleteModelVersion: (r) => svc.deleteModelVersion(r),
    getModelVersion: (r) => svc.getModelVersion(r),
    searchModelVersions: (r) => svc.searchModelVersions(r),
    getModelVersionDownloadUri: (r) => svc.getModelVersionDownloadUri(r),
    setModelVersionTag: (r) => svc.setModelVersionTag(r),
    deleteModelVersionTag: (r) => svc.deleteModelVersionTag(r),
  };
}
