/**
 * The response validator of the suites (spec-responses.ts) itself: it finds the operation a request reaches,
 * accepts what the spec declares and reports each kind of disagreement.
 */
import { describe, expect, it } from 'vitest';
import { findOperation, recordResponse, responseProblems, schemaProblems, takeSpecProblems, useSpecValidation, type SeenResponse } from './spec-responses.js';

useSpecValidation();

const model = { name: 'iris', creation_timestamp: 1732000000000, last_updated_timestamp: 1732000000000, tags: [{ key: 'team', value: 'ml' }] };
const json = (method: string, path: string, status: number, body: unknown): SeenResponse => ({
  method,
  path,
  status,
  contentType: 'application/json; charset=utf-8',
  text: JSON.stringify(body),
});

describe('spec response validation', () => {
  it('finds operations under /api and /ajax-api, with path parameters and a query string', () => {
    expect(findOperation('POST', '/api/2.0/mlflow/registered-models/create')?.operationId).toBe('createRegisteredModel');
    expect(findOperation('GET', '/ajax-api/2.0/mlflow/registered-models/get?name=iris')?.operationId).toBe('getRegisteredModel');
    expect(findOperation('POST', '/api/2.0/mlflow/webhooks/abc/test')?.operationId).toBe('testWebhook');
    expect(findOperation('GET', '/api/2.0/mlflow-artifacts/artifacts/a/b/c.bin')?.operationId).toBeDefined();
    expect(findOperation('HEAD', '/health')?.operationId).toBe('health');
    expect(findOperation('GET', '/api/2.0/mlflow/nope')).toBeUndefined();
  });

  it('accepts a body the spec declares, and an error body for a documented error status', () => {
    expect(responseProblems(json('POST', '/api/2.0/mlflow/registered-models/create', 200, { registered_model: model }))).toEqual([]);
    const notFound = { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=x not found' };
    expect(responseProblems(json('GET', '/api/2.0/mlflow/registered-models/get?name=x', 404, notFound))).toEqual([]);
  });

  it('reports an undeclared field, a wrong type, a missing required field and a value outside an enum', () => {
    const problems = responseProblems(
      json('POST', '/api/2.0/mlflow/registered-models/create', 200, { registered_model: { ...model, creation_timestamp: '1', extra: 1 }, more: true }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/\$\.registered_model\.creation_timestamp: expected integer, got "1"$/),
      expect.stringMatching(/\$\.registered_model\.extra: not declared by the spec$/),
      expect.stringMatching(/\$\.more: not declared by the spec$/),
    ]);
    expect(responseProblems(json('GET', '/api/2.0/mlflow/registered-models/get', 404, { message: 'x' }))).toEqual([
      expect.stringMatching(/\$: missing required field error_code$/),
    ]);
    expect(schemaProblems({ $ref: '#/components/schemas/ModelVersionStatus' }, 'DONE')).toEqual([expect.stringMatching(/"DONE" is not one of/)]);
    expect(schemaProblems({ type: 'integer', format: 'int64' }, 2 ** 60)).toEqual([expect.stringMatching(/out of the int64 range/)]);
  });

  it('reports an undocumented status, an undeclared Content-Type and a body that is not JSON', () => {
    expect(responseProblems(json('POST', '/api/2.0/mlflow/registered-models/create', 418, {}))).toEqual([expect.stringMatching(/status 418 is not documented/)]);
    expect(responseProblems({ method: 'GET', path: '/api/2.0/mlflow/registered-models/get', status: 200, contentType: 'text/plain', text: 'x' })).toEqual([
      expect.stringMatching(/Content-Type 'text\/plain' is not one the spec declares/),
    ]);
    expect(responseProblems({ method: 'GET', path: '/api/2.0/mlflow/registered-models/get', status: 200, contentType: 'application/json', text: '{' })).toEqual([
      expect.stringMatching(/the body is not JSON/),
    ]);
  });

  it('holds a request no operation takes to the error envelope: 404 for an unknown path, 405 for a method its path lacks', () => {
    const unknown = { error_code: 'ENDPOINT_NOT_FOUND', message: 'No endpoint GET /api/2.0/mlflow/nope' };
    expect(responseProblems(json('GET', '/api/2.0/mlflow/nope', 404, unknown))).toEqual([]);
    const method = { error_code: 'BAD_REQUEST', message: 'The method PUT is not allowed for the requested URL.' };
    expect(responseProblems(json('PUT', '/ajax-api/2.0/mlflow/registered-models/create', 405, method))).toEqual([]);
    expect(responseProblems(json('GET', '/api/2.0/mlflow/nope', 200, {}))).toEqual([expect.stringMatching(/no operation in the spec \(expected a 404 error\)/)]);
    expect(responseProblems(json('PUT', '/api/2.0/mlflow/registered-models/create', 404, unknown))).toEqual([expect.stringMatching(/expected a 405 error/)]);
    expect(responseProblems(json('GET', '/api/2.0/mlflow/nope', 404, { detail: 'x' }))).toEqual([
      expect.stringMatching(/missing required field error_code/),
      expect.stringMatching(/missing required field message/),
      expect.stringMatching(/\$\.detail: not declared/),
    ]);
  });

  it('checks non-JSON responses by status and Content-Type only, and a documented empty body', () => {
    const download = { method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts/a/model.pkl', status: 200, contentType: 'application/octet-stream', text: '(not read)' };
    expect(responseProblems(download)).toEqual([]);
    expect(responseProblems({ ...download, contentType: 'application/json', text: '{"not":"checked"}' })).toEqual([]); // a .json artifact: */*
    expect(responseProblems({ method: 'GET', path: '/health', status: 200, contentType: 'text/plain; charset=UTF-8', text: 'OK' })).toEqual([]);
    const deleted = { method: 'DELETE', path: '/api/3.0/mlflow/workspaces/team-a', status: 204, contentType: '', text: '' };
    expect(responseProblems(deleted)).toEqual([]);
    expect(responseProblems({ ...deleted, contentType: 'application/json', text: '{}' })).toEqual([expect.stringMatching(/documents no body for 204/)]);
  });

  it('records the problems of responses while the file validates them', () => {
    recordResponse(json('POST', '/api/2.0/mlflow/registered-models/create', 200, { registered_model: model }));
    recordResponse(json('POST', '/api/2.0/mlflow/registered-models/create', 200, {}));
    // Taken here, so that this file's own afterEach check (which would fail the test) sees none.
    expect(takeSpecProblems()).toEqual([expect.stringMatching(/createRegisteredModel\): \$: missing required field registered_model$/)]);
  });
});
