import { expect } from 'vitest';
import { MlflowApiError } from '../../packages/client/src/index.js';

/** Awaits a promise that must reject with an MlflowApiError and returns that error. */
export async function apiError(p: Promise<unknown>): Promise<MlflowApiError> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MlflowApiError);
  return err as MlflowApiError;
}
