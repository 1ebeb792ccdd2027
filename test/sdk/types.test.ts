/**
 * Type tests: the mistakes the SDK's types must catch (checked by `tsc -p test/sdk/tsconfig.types.json`,
 * which scripts/ci/sdk.sh runs; every `@ts-expect-error` must be an error, or tsc fails). The calls
 * sit in functions that are never invoked: only their types matter.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  MlflowApiError,
  MlflowRegistryClient,
  and,
  where,
  type ErrorCode,
  type FilterClause,
  type ModelVersion,
  type ModelVersionStage,
  type UnknownErrorCode,
} from '../../packages/client/src/index.js';
import { clientFromEnv, downloadModel } from '../../packages/client/src/node.js';

declare const client: MlflowRegistryClient;
declare const err: unknown;

export function errorCodes(): void {
  MlflowApiError.is(err, 'RESOURCE_ALREADY_EXISTS');
  MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST', 'INVALID_PARAMETER_VALUE', 'NETWORK_ERROR');
  // @ts-expect-error a misspelt code does not compile
  MlflowApiError.is(err, 'RESOURCE_ALREDY_EXISTS');
  // The explicit escape for codes the client does not know:
  MlflowApiError.hasCode(err, 'SOME_NEWER_MLFLOW_CODE');

  if (err instanceof MlflowApiError) {
    expectTypeOf(err.errorCode).toEqualTypeOf<ErrorCode | UnknownErrorCode>();
    expectTypeOf<UnknownErrorCode>().toEqualTypeOf<'UNKNOWN_ERROR_CODE'>();
    const asString: string = err.errorCode; // still a string
    void asString;
    // Comparisons with known codes compile; with a misspelt one they do not.
    if (err.errorCode === 'RESOURCE_ALREADY_EXISTS') expectTypeOf(err.errorCode).toEqualTypeOf<'RESOURCE_ALREADY_EXISTS'>();
    // @ts-expect-error a misspelt code compared with errorCode does not compile
    if (err.errorCode === 'RESOURCE_ALREDY_EXISTS') return;
    // @ts-expect-error nor does an arbitrary string the client does not know
    if (err.errorCode === 'SOME_NEWER_MLFLOW_CODE') return;
    switch (err.errorCode) {
      case 'RESOURCE_DOES_NOT_EXIST':
      case 'NETWORK_ERROR':
        break;
      // @ts-expect-error nor a misspelt case label
      case 'RESOURCE_DOES_NOT_EXITS':
        break;
    }
    // The explicit escape: an unknown code is 'UNKNOWN_ERROR_CODE' in errorCode and, as sent, in rawErrorCode.
    expectTypeOf(err.rawErrorCode).toEqualTypeOf<string>();
    if (err.errorCode === 'UNKNOWN_ERROR_CODE' && err.rawErrorCode === 'SOME_NEWER_MLFLOW_CODE') return;
    // Known codes narrow: after this check errorCode is exactly one of the codes.
    if (MlflowApiError.is(err, 'RESOURCE_ALREADY_EXISTS', 'ALREADY_EXISTS')) {
      expectTypeOf(err.errorCode).toEqualTypeOf<'RESOURCE_ALREADY_EXISTS' | 'ALREADY_EXISTS'>();
    }
  }
  if (MlflowApiError.is(err)) expectTypeOf(err.errorCode).toEqualTypeOf<ErrorCode | UnknownErrorCode>();
  // @ts-expect-error ErrorCode is closed: arbitrary strings are not ErrorCodes
  const code: ErrorCode = 'WHATEVER';
  void code;
}

export async function stages(): Promise<void> {
  await client.transitionModelVersionStage({ name: 'm', version: 1, stage: 'Production' });
  await client.transitionModelVersionStage({ name: 'm', version: 1, stage: 'staging' }); // MLflow is case-insensitive
  // @ts-expect-error a misspelt stage does not compile
  await client.transitionModelVersionStage({ name: 'm', version: 1, stage: 'Prodution' });
  await client.getLatestVersions({ name: 'm', stages: ['Production', 'archived'] });
  // @ts-expect-error nor in getLatestVersions
  await client.getLatestVersions({ name: 'm', stages: ['Prod'] });
  const mv = await client.getModelVersion({ name: 'm', version: '1' });
  expectTypeOf(mv.currentStage).toEqualTypeOf<ModelVersionStage>();
  expectTypeOf<ModelVersionStage>().toEqualTypeOf<'None' | 'Staging' | 'Production' | 'Archived'>();
}

export async function descriptions(): Promise<void> {
  await client.updateRegisteredModel({ name: 'm', description: 'new' });
  await client.updateRegisteredModel({ name: 'm', description: null }); // clearing is explicit
  // @ts-expect-error omitting the description (which clears it in MLflow) does not compile
  await client.updateRegisteredModel({ name: 'm' });
  await client.updateModelVersion({ name: 'm', version: 1, description: null });
  // @ts-expect-error same for versions
  await client.updateModelVersion({ name: 'm', version: 1 });
}

export async function helpers(): Promise<void> {
  const mv = await client.registerModel({ name: 'm', source: 'mlflow-artifacts:/m/1', awaitRegistrationForMs: 10_000 });
  expectTypeOf(mv).toEqualTypeOf<ModelVersion>();
  const r = await client.resolveModelUri('models:/m@champion');
  expectTypeOf(r.version).toEqualTypeOf<string>();
  expectTypeOf(r.artifactPath).toEqualTypeOf<string | undefined>();
  const f = and(where.name.eq("o'brien"), where.tag('team').like('ml%'), where.versionNumber.gt(2));
  expectTypeOf(f).toEqualTypeOf<string>();
  expectTypeOf(where.runId.in(['a', 'b'])).toEqualTypeOf<FilterClause>();
  // @ts-expect-error and() takes built clauses, not raw strings
  and("name = 'x'");
  // @ts-expect-error version numbers compare with numbers
  where.versionNumber.gt('2');
  // @ts-expect-error sourcePath has no IN
  where.sourcePath.in(['x']);
  const c = clientFromEnv({ validateResponses: true });
  const d = await downloadModel(c, { modelUri: 'models:/m/1', dstPath: '/tmp/m' });
  expectTypeOf(d.files).toEqualTypeOf<string[]>();
}

export function auth(): void {
  new MlflowRegistryClient({ baseUrl: 'http://x', token: 't' });
  new MlflowRegistryClient({ baseUrl: 'http://x', username: 'u', password: 'p', workspace: 'team-a' });
  // @ts-expect-error a user name needs a password
  new MlflowRegistryClient({ baseUrl: 'http://x', username: 'u' });
  // @ts-expect-error token and Basic credentials are exclusive
  new MlflowRegistryClient({ baseUrl: 'http://x', token: 't', username: 'u', password: 'p' });
}

export async function workspaces(): Promise<void> {
  const teamA = client.withWorkspace('team-a');
  expectTypeOf(teamA).toEqualTypeOf<MlflowRegistryClient>();
  expectTypeOf(teamA.workspace).toEqualTypeOf<string | undefined>();
  await teamA.getRegisteredModel({ name: 'm' }, { workspace: 'team-b' });
  await client.deleteWorkspace({ name: 'team-a', mode: 'CASCADE' });
  // @ts-expect-error a misspelt deletion mode does not compile
  await client.deleteWorkspace({ name: 'team-a', mode: 'CASCAD' });
  const ws = await client.createWorkspace({ name: 'team-c', defaultArtifactRoot: 's3://bucket/team-c' });
  expectTypeOf(ws.description).toEqualTypeOf<string | undefined>();
  expectTypeOf((await client.getServerInfo()).workspacesEnabled).toEqualTypeOf<boolean>();
}

describe('SDK types', () => {
  it('are checked by tsc (test/sdk/tsconfig.types.json); nothing to run', () => {
    expectTypeOf(errorCodes).toBeFunction();
  });
});
