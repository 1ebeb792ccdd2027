/**
 * Reference §5 over HTTP: model names, tag keys and values, aliases, stages, max_results bounds,
 * model-version sources (relative paths and encoded traversal, NUL, local paths, `runs:/` lineage,
 * host-addressed schemes, prompt placeholders, the operator's source regex). Messages are MLflow
 * 3.17.2's; where MLflow answers 500 we answer 400 with its text.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, invalidValue, localSourceMessage, mustIdentify, relativeSourceMessage, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const resolvesTo = (param: string, value: string, norm: string) =>
  `Invalid value "${value}" for parameter '${param}' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`;
const badKeyChars = (key: string) =>
  `Invalid value "${key}" for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`;
const hostAddressed = (scheme: string) =>
  `'source' cannot use the '${scheme}' scheme: the '${scheme}' scheme addresses a host other than the tracking server's configured artifact storage, ` +
  'so the server would connect to the host named in the URI. Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server to allow it.';
const PROMPT_TAG = { key: 'mlflow.prompt.is_prompt', value: 'true' };

describe.each(backendsWithS3())('validation (%s)', (backend) => {
  const c = useServer(backend);
  let model: string;
  beforeAll(async () => {
    model = uniq();
    await c.createModel(model);
    await c.createVersion(model);
  });

  const create = (source: string, extra: Record<string, unknown> = {}) => c.post('/model-versions/create', { name: model, source, ...extra });

  describe('registered model names', () => {
    it('accepts any characters except / and :, including spaces, dots and Unicode', async () => {
      for (const n of ['my model', 'a.b', 'ünï-çødé', `${uniq()} (v2) #1`]) expect((await c.post('/registered-models/create', { name: n })).status).toBe(200);
    });

    it('refuses / and :, and names that resolve to other paths', async () => {
      for (const n of ['a/b', 'x/', 'a:b']) {
        expectError(await c.post('/registered-models/create', { name: n }), 400, 'INVALID_PARAMETER_VALUE', `Invalid model name '${n}'. Names cannot contain '/' or ':'.`);
      }
      for (const n of ['.', '..', '..x']) expectError(await c.post('/registered-models/create', { name: n }), 400, 'INVALID_PARAMETER_VALUE', resolvesTo('name', n, n));
    });
  });

  describe('tag keys and values', () => {
    it('accepts letters (Unicode), digits, _ - . space : / that do not normalise away', async () => {
      for (const key of ['a b:c/d.e-f_g', 'ключ', 'k'.repeat(250)]) {
        expect((await c.post('/registered-models/set-tag', { name: model, key, value: 'v' })).status).toBe(200);
        expect((await c.post('/model-versions/set-tag', { name: model, version: '1', key, value: 'v' })).status).toBe(200);
      }
    });

    it('refuses other characters, non-normal paths and keys over 250 characters', async () => {
      for (const key of ['bad key!', 'a*b', 'a\tb']) {
        expectError(await c.post('/registered-models/set-tag', { name: model, key, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', badKeyChars(JSON.parse(JSON.stringify(key)).replace('\t', '\\t')));
      }
      for (const [key, norm] of [['./a', 'a'], ['/a', '/a'], ['a/', 'a'], ['..', '..'], ['a//b', 'a/b']]) {
        expectError(await c.post('/registered-models/set-tag', { name: model, key, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', resolvesTo('key', key!, norm!));
        expectError(await c.post('/model-versions/set-tag', { name: model, version: '1', key, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', resolvesTo('key', key!, norm!));
      }
      const long = 'k'.repeat(251);
      expectError(await c.post('/registered-models/set-tag', { name: model, key: long, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', "'key' exceeds the maximum length of 250 characters");
      expectError(await c.post('/model-versions/set-tag', { name: model, version: '1', key: long, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', "'key' exceeds the maximum length of 250 characters");
    });

    it('accepts values up to 100,000 characters (model-version tags), refuses longer ones', async () => {
      expect((await c.post('/model-versions/set-tag', { name: model, version: '1', key: 'big', value: 'v'.repeat(100_000) })).status).toBe(200);
      expectError(
        await c.post('/model-versions/set-tag', { name: model, version: '1', key: 'big', value: 'v'.repeat(100_001) }),
        400,
        'INVALID_PARAMETER_VALUE',
        "'value' exceeds the maximum length of 100000 characters",
      );
      expectError(
        await c.post('/registered-models/set-tag', { name: model, key: 'big', value: 'v'.repeat(100_001) }),
        400,
        'INVALID_PARAMETER_VALUE',
        "'value' exceeds the maximum length of 100000 characters",
      );
      // The registered-model tag column holds 5000 characters: the database refuses longer values.
      expectError(await c.post('/registered-models/set-tag', { name: model, key: 'big', value: 'v'.repeat(5001) }), 400, 'BAD_REQUEST', /value too long/);
    });

    it('gives prompt text its own message', async () => {
      expectError(
        await c.post('/model-versions/set-tag', { name: model, version: '1', key: 'mlflow.prompt.text', value: 'x'.repeat(100_001) }),
        400,
        'INVALID_PARAMETER_VALUE',
        'Prompt text exceeds max length of 100000 characters.',
      );
    });
  });

  describe('aliases', () => {
    it('accepts Unicode word characters and hyphens; reserves latest and v<digits> only', async () => {
      for (const alias of ['ünï', 'a-b_c', 'latest_x', 'vv1', 'v1x', '1']) expect((await c.post('/registered-models/alias', { name: model, alias, version: '1' })).status).toBe(200);
      for (const alias of ['v1', 'V007']) expectError(await c.post('/registered-models/alias', { name: model, alias, version: '1' }), 400, 'INVALID_PARAMETER_VALUE', `Version alias name '${alias}' is reserved.`);
      expectError(await c.post('/registered-models/alias', { name: model, alias: 'LATEST', version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
    });
  });

  describe('max_results bounds', () => {
    it('search registered models: at most 1000 (handler message), no lower bound', async () => {
      expect((await c.get('/registered-models/search', { max_results: 1000 })).status).toBe(200);
      expectError(await c.get('/registered-models/search', { max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('max_results', '"1001"', 'str'));
      const zero = await c.get('/registered-models/search', { max_results: 0 });
      expect(zero.status).toBe(200);
      expect(zero.body.registered_models).toBeUndefined();
      // MLflow answers LIMIT 0 and a token for offset -1 for max_results = -1; below that the database refuses the LIMIT.
      expect((await c.get('/registered-models/search', { max_results: -1 })).body).toEqual({ next_page_token: Buffer.from('{"offset": -1}').toString('base64') });
      expectError(await c.get('/registered-models/search', { max_results: -5 }), 400, 'BAD_REQUEST');
    });

    it('search model versions: 1 ≤ max_results ≤ 200000', async () => {
      expect((await c.get('/model-versions/search', { max_results: 200_000 })).status).toBe(200);
      expectError(await c.get('/model-versions/search', { max_results: 200_001 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('max_results', '"200001"', 'str'));
      for (const n of [0, -1]) {
        expectError(await c.get('/model-versions/search', { max_results: n }), 400, 'INVALID_PARAMETER_VALUE', `Invalid value for max_results. It must be a positive integer, but got ${n}`);
      }
    });

    it('answers 400 where int() fails on a value protobuf accepted (MLflow: HTML 500)', async () => {
      expectError(await c.get('/registered-models/search', { max_results: '1e1' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('max_results', '"1e1"', 'str'));
    });
  });

  describe('model-version sources', () => {
    it('accepts absolute remote URIs, collapsing repeated and trailing slashes', async () => {
      for (const src of ['s3://b/p', 's3://b//x///y//', 'gs://b/x%2e%2e/y', 'dbfs:/x', 'mlflow-artifacts:/models/', 'mlflow-artifacts:/models/foo///bar']) {
        const r = await create(src);
        expect(r.status, `${src}: ${JSON.stringify(r.body)}`).toBe(200);
        expect(r.body.model_version.source).toBe(src);
      }
    });

    it('refuses .. and . segments, encoded and double-encoded traversal, NUL and empty paths', async () => {
      for (const src of [
        's3://b/../x',
        's3://b/..',
        's3://b/a/..%2f..%2fx',
        's3://b/%252e%252e%252fx',
        's3://b/x/./y',
        's3://b/a%00',
        'gs://b/x%00y',
        's3://b',
        'runs:/',
        'runs:r1/m',
        'C:\\x\\y',
      ]) {
        expectError(await create(src, { run_id: 'r1' }), 400, 'INVALID_PARAMETER_VALUE', relativeSourceMessage(src));
      }
    });

    it('refuses a backslash-separated .. segment (stricter than MLflow)', async () => {
      expectError(await create('s3://b/a\\..\\x'), 400, 'INVALID_PARAMETER_VALUE', relativeSourceMessage('s3://b/a\\..\\x'));
    });

    it('refuses local paths (no tracking store can vouch for them)', async () => {
      for (const src of ['/tmp/x', 'relative/path', 'file:///tmp/x', 'file:x', 'file://localhost/tmp/x', 'prompt-template']) {
        expectError(await create(src), 400, 'INVALID_PARAMETER_VALUE', localSourceMessage(src));
      }
      // With an id, MLflow looks the run (or logged model) up; this registry has none, so it answers as
      // MLflow does for an unknown one.
      const unknown = (src: string, id: string) =>
        `Invalid model version source: '${src}'. The ${id} request parameter must identify the resource that contains the source.`;
      expectError(await create('/tmp/x', { run_id: 'r1' }), 400, 'INVALID_PARAMETER_VALUE', unknown('/tmp/x', 'run_id'));
      expectError(await create('/tmp/x', { model_id: 'm-1' }), 400, 'INVALID_PARAMETER_VALUE', unknown('/tmp/x', 'model_id'));
    });

    it('answers a file:// URI naming a remote host with 400 (MLflow: 500) and its message', async () => {
      expectError(
        await create('file://remote/tmp/x'),
        400,
        'INVALID_PARAMETER_VALUE',
        'file://remote/tmp/x is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).',
      );
    });

    it('requires a runs:/ source to name the request run_id', async () => {
      for (const [src, runId] of [
        ['runs:/r1/model', 'r1'],
        ['runs:/r1', 'r1'],
        ['RUNS:/r1/m', 'r1'],
        ['runs:///r1/m', 'r1'],
        ['runs:/r1?x=1', 'r1'],
        ['runs:/r1#x', 'r1'],
        ['runs:/R1/m', 'R1'],
      ]) {
        expect((await create(src!, { run_id: runId })).status, src).toBe(200);
      }
      expectError(await create('runs:/r1/model'), 400, 'INVALID_PARAMETER_VALUE', mustIdentify('runs:/r1/model', 'run_id'));
      expectError(await create('runs:/r1/model', { run_id: 'r2' }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify('runs:/r1/model', 'run_id'));
      expectError(await create('runs:/R1/m', { run_id: 'r1' }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify('runs:/R1/m', 'run_id'));
      expectError(await create('runs://host/r1/m', { run_id: 'r1' }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify('runs://host/r1/m', 'run_id'));
      expectError(await create('runs:/r1/../m', { run_id: 'r1' }), 400, 'INVALID_PARAMETER_VALUE', relativeSourceMessage('runs:/r1/../m'));
    });

    it('refuses schemes that address another host, before any other source check', async () => {
      for (const [src, scheme] of [
        ['https://example.com/x', 'https'],
        ['https://example.com/../x', 'https'],
        ['http://host/api/2.0/mlflow-artifacts/artifacts/x', 'http'],
        ['http:/x/y', 'http'],
        ['ftp://h/x', 'ftp'],
        ['sftp://host/x', 'sftp'],
        ['hdfs://nn/x', 'hdfs'],
        ['mlflow-artifacts://host/x', 'mlflow-artifacts'],
      ]) {
        expectError(await create(src!), 400, 'INVALID_PARAMETER_VALUE', hostAddressed(scheme!));
      }
    });

    it('accepts only the MLflow placeholders as prompt sources, and validates normally otherwise', async () => {
      const prompt = uniq();
      await c.createModel(prompt, { tags: [PROMPT_TAG] });
      for (const src of ['prompt-template', 'dummy-source']) {
        expect((await c.post('/model-versions/create', { name: prompt, source: src, tags: [PROMPT_TAG] })).status).toBe(200);
      }
      expect((await c.post('/model-versions/create', { name: prompt, source: 'dummy-source', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'TRUE' }] })).status).toBe(200);
      for (const src of ['s3://x/y', '/etc/passwd', 'file:///etc/passwd']) {
        expectError(
          await c.post('/model-versions/create', { name: prompt, source: src, tags: [PROMPT_TAG] }),
          400,
          'INVALID_PARAMETER_VALUE',
          `Invalid prompt source: '${src}'. Prompt sources must use an MLflow placeholder.`,
        );
      }
      // The last value of the marker decides; "false" means an ordinary version with ordinary checks.
      const r = await c.post('/model-versions/create', { name: prompt, source: 's3://b/x', tags: [PROMPT_TAG, { key: 'mlflow.prompt.is_prompt', value: 'false' }] });
      expect(r.status).toBe(200);
      expect(r.body.model_version.tags).toEqual([{ key: 'mlflow.prompt.is_prompt', value: 'false' }]);
      expectError(
        await c.post('/model-versions/create', { name: prompt, source: 'prompt-template', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'false' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        localSourceMessage('prompt-template'),
      );
    });
  });

  describe('server options', () => {
    const o = useServer(backend, {
      MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: '^(s3://allowed/|prompt-template$|https://)',
      MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES: 'https',
    });

    it('applies MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX to every source, prompts included', async () => {
      const name = uniq();
      await o.createModel(name);
      expect((await o.post('/model-versions/create', { name, source: 's3://allowed/x' })).status).toBe(200);
      expectError(await o.post('/model-versions/create', { name, source: 's3://other/x' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid model version source: 's3://other/x'.");
      expectError(
        await o.post('/model-versions/create', { name, source: 'dummy-source', tags: [PROMPT_TAG] }),
        400,
        'INVALID_PARAMETER_VALUE',
        "Invalid model version source: 'dummy-source'.",
      );
      expect((await o.post('/model-versions/create', { name, source: 'prompt-template', tags: [PROMPT_TAG] })).status).toBe(200);
    });

    it('lets MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES allow a scheme to name any host', async () => {
      const name = uniq();
      await o.createModel(name);
      expect((await o.post('/model-versions/create', { name, source: 'https://example.com/models/x' })).status).toBe(200);
      expectError(await o.post('/model-versions/create', { name, source: 'https://example.com/models/../x' }), 400, 'INVALID_PARAMETER_VALUE', relativeSourceMessage('https://example.com/models/../x'));
    });
  });
});
